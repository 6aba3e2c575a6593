"""The emulator's HTTP side: the Stripe API subset, the pages, the control endpoints
(their URLs in ``routes``; the pages in ``pages``, the control endpoints in
``control``, expansion and lists in ``listing``).

One lock serialises everything that reads or changes the account. An
``Idempotency-Key`` is Stripe's: a request repeating one that was answered replays
that answer, while a request sent with a key whose first request is still being
served is refused at once with ``409 idempotency_key_in_use`` (which stripe-python
retries), as Stripe refuses it.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import json
import logging
import re
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from stripe_emulator.clock import Clock
from stripe_emulator.control import Control
from stripe_emulator.forms import FormError, parse_form
from stripe_emulator.listing import expand
from stripe_emulator.pages import page as page_html
from stripe_emulator.responses import Response, html_response, json_response
from stripe_emulator.routes import Route, build_routes
from stripe_emulator.state import (
    API_VERSION,
    Obj,
    StripeError,
    StripeState,
    event_body,
    expand_list,
    new_id,
)
from stripe_emulator.webhooks import DEFAULT_RETRY_DELAYS, Delivery, WebhookSender

logger = logging.getLogger("strata.stripe_emulator")

_TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")


@dataclass(frozen=True)
class _Stored:
    fingerprint: str
    response: Response


class Emulator:
    """A running emulator: ``url``, ``stop()``, ``flush()``; ``state`` for tests.

    ``port=None`` makes one that listens on nothing, for ``handle`` to be called
    in-process (``stripe_emulator.inprocess``); its ``url`` is ``http://<host>``
    and ``clock_source`` may stand in for the real time.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int | None,
        webhook_url: str | None,
        secret: str,
        prices: Iterable[Mapping[str, Any]],
        clock_offset_file: str | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        delivery_timeout: float = 10.0,
        clock_source: Callable[[], float] | None = None,
    ) -> None:
        self._server: _Server | None = None
        self.host = host
        if port is None:
            self.port = 0
            self.url = f"http://{host}"
        else:
            self._server = _Server((host, port), _Handler)
            self._server.emulator = self
            self.port = int(self._server.server_address[1])
            self.url = f"http://{host}:{self.port}"
        self.webhook_url = webhook_url
        self.clock = (
            Clock(clock_offset_file)
            if clock_source is None
            else Clock(clock_offset_file, clock_source)
        )
        self.sender = WebhookSender(
            webhook_url,
            secret,
            retry_delays=retry_delays,
            timeout=delivery_timeout,
            now=self.clock.current,
        )
        self._lock = threading.RLock()
        self._held: list[Delivery] | None = None
        # The Idempotency-Keys of the API requests being served right now.
        self._in_flight: set[str] = set()
        self._in_flight_lock = threading.Lock()
        # Each event's body as first sent, for replays; each Idempotency-Key's
        # request and answer.
        self.bodies: dict[str, bytes] = {}
        self.idempotency: dict[str, _Stored] = {}
        self.requests: deque[Obj] = deque(maxlen=1000)
        self.webhook_endpoints: list[Obj] = []
        self.state = StripeState(
            self.url,
            prices,
            self.clock,
            self._on_event,
            webhooks=webhook_url is not None,
        )
        self._thread = (
            None
            if self._server is None
            else threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="stripe-emulator",
                daemon=True,
            )
        )
        self._started = False
        self.control = Control(self)
        self._routes = build_routes(self)

    # --- lifecycle ----------------------------------------------------------------

    def start(self) -> Emulator:
        self.sender.start()
        self._started = True
        if self._thread is not None:
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
        if self._started:
            self.sender.stop()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every event so far is delivered (or failed); False on timeout."""
        return self.sender.flush(timeout)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- events -------------------------------------------------------------------

    def _on_event(self, event: Obj) -> None:
        body = event_body(event)
        self.bodies[event["id"]] = body
        delivery = self.sender.enqueue(event["id"], body, released=self._held is None)
        if self._held is not None:
            self._held.append(delivery)

    def _locked(
        self,
        run: Callable[[], Response],
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[Response, list[Delivery]]:
        """Run under the lock; events emitted meanwhile are held until the caller
        has answered the request (``release``)."""
        with self._lock:
            self._held = []
            self.state.request_id, self.state.idempotency_key = (
                request_id,
                idempotency_key,
            )
            try:
                return run(), self._held
            finally:
                self._held = None
                self.state.request_id = self.state.idempotency_key = None

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """While the block runs, every request that reads or changes the account
        waits (what a request still in flight looks like to another)."""
        with self._lock:
            yield

    def in_flight(self, key: str) -> bool:
        """Whether a request with this Idempotency-Key is being served."""
        with self._in_flight_lock:
            return key in self._in_flight

    def hold(self, delivery: Delivery) -> None:
        """Send ``delivery`` only once the request being served is answered."""
        assert self._held is not None  # only ever called under ``_locked``
        self._held.append(delivery)

    def release(self, held: Iterable[Delivery]) -> None:
        self.sender.release(held)

    # --- dispatch -----------------------------------------------------------------

    def handle(
        self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[Response, list[Delivery]]:
        """Answer one request (``headers`` with lower-case names); the deliveries
        returned are to be released once the answer is sent."""
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/") or "/"
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is None or route.method != method:
                continue
            try:
                if route.kind == "api":
                    return self._api(
                        route, match, method, path, parts.query, headers, body
                    )
                if route.kind == "page":
                    run = functools.partial(route.run, parts.query, *match.groups())
                    return self._locked(run)
                return self._control(route, match, body)
            except Exception:
                logger.exception("the Stripe emulator failed on %s %s", method, path)
                error = {
                    "error": {"type": "api_error", "message": "The emulator failed."}
                }
                return json_response(500, error), []
        if path.startswith("/v1/"):
            return json_response(
                404,
                {
                    "error": {
                        "message": f"Unrecognized request URL ({method}: {path}). The "
                        "Stripe emulator implements only what Strata uses.",
                        "type": "invalid_request_error",
                    }
                },
            ), []
        if path.startswith("/_emulator/"):
            return json_response(
                404, {"error": {"message": f"no control endpoint {method} {path}"}}
            ), []
        return html_response(
            404, page_html("Not found", f"<p>Nothing at {path}.</p>")
        ), []

    def _api(
        self,
        route: Route,
        match: re.Match[str],
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> tuple[Response, list[Delivery]]:
        request_id = new_id("req_", 14)
        version = headers.get("stripe-version")
        base = {"Request-Id": request_id, "Stripe-Version": version or API_VERSION}
        unauthorized = _check_key(headers.get("authorization"))
        if unauthorized is not None:
            return json_response(401, unauthorized.body(), base), []
        try:
            text = body.decode() if method == "POST" and body else query
            params = parse_form(text)
        except (FormError, UnicodeDecodeError) as exc:
            param = exc.param if isinstance(exc, FormError) else None
            error = StripeError(400, f"Invalid request: {exc}", param=param)
            return json_response(400, error.body(), base), []
        key = headers.get("idempotency-key") if method == "POST" else None
        if key:
            base["Idempotency-Key"] = key
            with self._in_flight_lock:
                busy = key in self._in_flight
                self._in_flight.add(key)
            if busy:
                self.requests.append(
                    {
                        "id": request_id,
                        "method": method,
                        "path": path,
                        "stripe_version": version,
                        "idempotency_key": key,
                        "refused": "idempotency_key_in_use",
                    }
                )
                return json_response(409, _key_in_use(key).body(), base), []

        def run() -> Response:
            self.requests.append(
                {
                    "id": request_id,
                    "method": method,
                    "path": path,
                    "stripe_version": version,
                    "idempotency_key": key,
                    "refused": None,
                }
            )
            fingerprint = json.dumps([method, path, params], sort_keys=True)
            if key:
                stored = self.idempotency.get(key)
                if stored is not None:
                    if stored.fingerprint != fingerprint:
                        error = StripeError(
                            400,
                            "Keys for idempotent requests can only be used with the "
                            "same parameters they were first used with. Try using a "
                            f"key other than '{key}' if you meant to execute a "
                            "different request.",
                            type="idempotency_error",
                        )
                        return json_response(400, error.body(), base)
                    replay = copy.copy(stored.response)
                    replay.headers = {
                        **stored.response.headers,
                        "Idempotent-Replayed": "true",
                    }
                    return replay
            try:
                result = route.run(params, *match.groups())
                payload = expand(
                    copy.deepcopy(result), expand_list(params), self.state.lookup
                )
                response = json_response(200, payload, base)
            except StripeError as exc:
                response = json_response(exc.status, exc.body(), base)
            if key:
                self.idempotency[key] = _Stored(fingerprint, response)
            return response

        try:
            return self._locked(run, request_id, key)
        finally:
            if key:
                with self._in_flight_lock:
                    self._in_flight.discard(key)

    def _control(
        self, route: Route, match: re.Match[str], body: bytes
    ) -> tuple[Response, list[Delivery]]:
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError:
            return json_response(
                400, {"error": {"message": "the body must be JSON"}}
            ), []
        if not isinstance(payload, dict):
            return json_response(
                400, {"error": {"message": "the body must be a JSON object"}}
            ), []

        def run() -> Response:
            try:
                return json_response(200, route.run(payload, *match.groups()))
            except StripeError as exc:
                return json_response(exc.status, exc.body())

        if route.run == self.control.flush:  # waits: must not hold the lock
            return run(), []
        return self._locked(run)

    # --- webhook endpoints --------------------------------------------------------

    def create_webhook_endpoint(self, params: Mapping[str, Any]) -> Obj:
        """Registers an endpoint as Stripe does (the answer alone shows the secret).
        The emulator still delivers to the URL it was started with, signed with
        its one secret, which is the one it hands out here."""
        url = params.get("url")
        if not isinstance(url, str) or not url:
            raise StripeError(400, "Missing required param: url.", param="url")
        events = params.get("enabled_events")
        if not isinstance(events, list) or not events:
            raise StripeError(
                400, "Missing required param: enabled_events.", param="enabled_events"
            )
        endpoint: Obj = {
            "id": new_id("we_"),
            "object": "webhook_endpoint",
            "url": url,
            "api_version": params.get("api_version"),
            "enabled_events": events,
            "description": params.get("description"),
            "status": "enabled",
            "livemode": False,
            "metadata": {},
            "created": self.clock.now(),
        }
        self.webhook_endpoints.append(endpoint)
        return {**endpoint, "secret": self.sender.secret}


def _key_in_use(key: str) -> StripeError:
    return StripeError(
        409,
        "There is currently another in-progress request using this Stripe "
        "Idempotency-Key (that probably means you submitted twice, and the other "
        f"request is still going through): {key}. Please try again later.",
        type="idempotency_error",
        code="idempotency_key_in_use",
    )


def _check_key(header: str | None) -> StripeError | None:
    if not header:
        return StripeError(
            401,
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for "
            "details, or we can help at https://support.stripe.com/.",
        )
    scheme, _, credentials = header.partition(" ")
    key = credentials.strip()
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key).decode().partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            key = ""
    elif scheme.lower() != "bearer":
        key = ""
    if key.startswith(_TEST_KEY_PREFIXES) and len(key) > len("sk_test_"):
        return None
    shown = f"{key[:8]}{'*' * 4}{key[-4:]}" if len(key) > 12 else key
    return StripeError(
        401,
        f"Invalid API Key provided: {shown}. The Stripe emulator takes test keys "
        "(sk_test_...) only.",
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    emulator: Emulator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End kept-alive connections too: a stopped emulator answers nobody."""
        with self._open_lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "StrataStripeEmulator/1.0"
    timeout = 60  # an idle keep-alive connection is closed after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's
        # algorithm and the client's delayed ACK add 40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        emulator = self.server.emulator
        headers = {name.lower(): value for name, value in self.headers.items()}
        response, held = emulator.handle(method, self.path, headers, body)
        try:
            self.send_response(response.status, HTTPStatus(response.status).phrase)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.send_header("Cache-Control", "no-cache, no-store")
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
            self.wfile.flush()
        finally:
            # Only now, with the answer sent, may the webhooks it caused go out.
            emulator.release(held)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)
