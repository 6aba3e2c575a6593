"""The emulator's HTTP side: the Stripe API subset, the pages, the control endpoints.

One lock serialises everything that reads or changes the account, so an
``Idempotency-Key`` sent twice at once still makes one object: the second request
waits for the first and replays its answer.
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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from stripe_emulator import pages
from stripe_emulator.clock import Clock
from stripe_emulator.forms import FormError, parse_form
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
_MAX_EXPAND_DEPTH = 4


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _json(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        status,
        json.dumps(payload, indent=2).encode() + b"\n",
        headers=dict(headers or {}),
    )


def _html(status: int, body: bytes) -> Response:
    return Response(status, body, "text/html; charset=utf-8")


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    kind: str  # api, page or control
    run: Callable[..., Any]


@dataclass(frozen=True)
class _Stored:
    fingerprint: str
    response: Response


class Emulator:
    """A running emulator: ``url``, ``stop()``, ``flush()``; ``state`` for tests."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        webhook_url: str | None,
        secret: str,
        prices: Iterable[Mapping[str, Any]],
        clock_offset_file: str | None = None,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        delivery_timeout: float = 10.0,
    ) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.emulator = self
        self.host = host
        self.port = int(self._server.server_address[1])
        self.url = f"http://{host}:{self.port}"
        self.webhook_url = webhook_url
        self.clock = Clock(clock_offset_file)
        self.sender = WebhookSender(
            webhook_url,
            secret,
            retry_delays=retry_delays,
            timeout=delivery_timeout,
            now=self.clock.current,
        )
        self._lock = threading.RLock()
        self._held: list[Delivery] | None = None
        self._bodies: dict[str, bytes] = {}
        self._idempotency: dict[str, _Stored] = {}
        self.requests: deque[Obj] = deque(maxlen=1000)
        self.webhook_endpoints: list[Obj] = []
        self.state = StripeState(
            self.url,
            prices,
            self.clock,
            self._on_event,
            webhooks=webhook_url is not None,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="stripe-emulator",
            daemon=True,
        )
        self._routes = self._build_routes()

    # --- lifecycle ----------------------------------------------------------------

    def start(self) -> Emulator:
        self.sender.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
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
        self._bodies[event["id"]] = body
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
                return _json(500, error), []
        if path.startswith("/v1/"):
            return _json(
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
            return _json(
                404, {"error": {"message": f"no control endpoint {method} {path}"}}
            ), []
        return _html(404, pages.page("Not found", f"<p>Nothing at {path}.</p>")), []

    def _api(
        self,
        route: _Route,
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
            return _json(401, unauthorized.body(), base), []
        try:
            text = body.decode() if method == "POST" and body else query
            params = parse_form(text)
        except (FormError, UnicodeDecodeError) as exc:
            param = exc.param if isinstance(exc, FormError) else None
            error = StripeError(400, f"Invalid request: {exc}", param=param)
            return _json(400, error.body(), base), []
        key = headers.get("idempotency-key") if method == "POST" else None
        if key:
            base["Idempotency-Key"] = key

        def run() -> Response:
            self.requests.append(
                {
                    "id": request_id,
                    "method": method,
                    "path": path,
                    "stripe_version": version,
                    "idempotency_key": key,
                }
            )
            fingerprint = json.dumps([method, path, params], sort_keys=True)
            if key:
                stored = self._idempotency.get(key)
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
                        return _json(400, error.body(), base)
                    replay = copy.copy(stored.response)
                    replay.headers = {
                        **stored.response.headers,
                        "Idempotent-Replayed": "true",
                    }
                    return replay
            try:
                result = route.run(params, *match.groups())
                payload = self._expand(copy.deepcopy(result), expand_list(params))
                response = _json(200, payload, base)
            except StripeError as exc:
                response = _json(exc.status, exc.body(), base)
            if key:
                self._idempotency[key] = _Stored(fingerprint, response)
            return response

        return self._locked(run, request_id, key)

    def _control(
        self, route: _Route, match: re.Match[str], body: bytes
    ) -> tuple[Response, list[Delivery]]:
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError:
            return _json(400, {"error": {"message": "the body must be JSON"}}), []
        if not isinstance(payload, dict):
            return _json(
                400, {"error": {"message": "the body must be a JSON object"}}
            ), []

        def run() -> Response:
            try:
                return _json(200, route.run(payload, *match.groups()))
            except StripeError as exc:
                return _json(exc.status, exc.body())

        if route.run == self._c_flush:  # waits: must not hold the lock
            return run(), []
        return self._locked(run)

    # --- expansion and lists ----------------------------------------------------

    def _expand(self, obj: Obj, paths: list[str]) -> Obj:
        for path in paths:
            parts = path.split(".")
            if len(parts) > _MAX_EXPAND_DEPTH:
                raise StripeError(
                    400,
                    f"You cannot expand more than {_MAX_EXPAND_DEPTH} levels of a "
                    f"property. Property: {path}",
                    param="expand",
                )
            self._expand_path(obj, parts, path)
        return obj

    def _expand_path(self, node: Any, parts: list[str], path: str) -> None:
        if not parts:
            return
        if (
            isinstance(node, dict)
            and node.get("object") == "list"
            and parts[0] == "data"
        ):
            for item in node["data"]:
                self._expand_path(item, parts[1:], path)
            return
        key = parts[0]
        if not isinstance(node, dict) or key not in node:
            raise StripeError(
                400, f"This property cannot be expanded ({path}).", param="expand"
            )
        value = node[key]
        if isinstance(value, str):
            target = self.state.lookup(value)
            if target is None:
                raise StripeError(
                    400, f"This property cannot be expanded ({path}).", param="expand"
                )
            value = node[key] = copy.deepcopy(target)
        if value is not None:
            self._expand_path(value, parts[1:], path)

    @staticmethod
    def _page(items: list[Obj], params: Mapping[str, Any], url: str, kind: str) -> Obj:
        raw = params.get("limit")
        try:
            limit = 10 if raw in (None, "") else int(raw)
        except (TypeError, ValueError):
            raise StripeError(
                400,
                f"Invalid integer: {raw}",
                code="parameter_invalid_integer",
                param="limit",
            ) from None
        if not 1 <= limit <= 100:
            raise StripeError(
                400,
                "This value must be greater than or equal to 1 and less than or "
                "equal to 100.",
                param="limit",
            )
        ids = [item["id"] for item in items]
        after, before = params.get("starting_after"), params.get("ending_before")
        if after:
            if after not in ids:
                raise StripeError(
                    400,
                    f"No such {kind}: '{after}'",
                    code="resource_missing",
                    param="starting_after",
                )
            window = items[ids.index(after) + 1 :]
            data, has_more = window[:limit], len(window) > limit
        elif before:
            if before not in ids:
                raise StripeError(
                    400,
                    f"No such {kind}: '{before}'",
                    code="resource_missing",
                    param="ending_before",
                )
            window = items[: ids.index(before)]
            data, has_more = window[-limit:], len(window) > limit
        else:
            data, has_more = items[:limit], len(items) > limit
        return {"object": "list", "data": data, "has_more": has_more, "url": url}

    # --- routes -------------------------------------------------------------------

    def _build_routes(self) -> list[_Route]:
        s = self.state
        ident = r"([^/]+)"

        def api(method: str, path: str, run: Callable[..., Any]) -> _Route:
            return _Route(method, re.compile(path.replace("{id}", ident)), "api", run)

        def page(path: str, run: Callable[..., Response]) -> _Route:
            return _Route("GET", re.compile(path.replace("{id}", ident)), "page", run)

        def control(method: str, name: str, run: Callable[..., Any]) -> _Route:
            path = "/_emulator/" + name.replace("{id}", ident)
            return _Route(method, re.compile(path), "control", run)

        return [
            api("POST", "/v1/customers", s.create_customer),
            api(
                "GET",
                "/v1/customers",
                lambda p: self._page(
                    [
                        c
                        for c in reversed(s.customers.values())
                        if not p.get("email") or c["email"] == p.get("email")
                    ],
                    p,
                    "/v1/customers",
                    "customer",
                ),
            ),
            api(
                "GET",
                "/v1/customers/{id}",
                lambda p, i: s.get(s.customers, "customer", i),
            ),
            api("POST", "/v1/customers/{id}", lambda p, i: s.update_customer(i, p)),
            api(
                "GET",
                "/v1/prices",
                lambda p: self._page(list(s.prices.values()), p, "/v1/prices", "price"),
            ),
            api("GET", "/v1/prices/{id}", lambda p, i: s.get(s.prices, "price", i)),
            api(
                "GET", "/v1/products/{id}", lambda p, i: s.get(s.products, "product", i)
            ),
            api("POST", "/v1/webhook_endpoints", self._create_webhook_endpoint),
            api(
                "GET",
                "/v1/webhook_endpoints",
                lambda p: self._page(
                    list(reversed(self.webhook_endpoints)),
                    p,
                    "/v1/webhook_endpoints",
                    "webhook_endpoint",
                ),
            ),
            api("POST", "/v1/checkout/sessions", s.create_checkout_session),
            api(
                "GET",
                "/v1/checkout/sessions/{id}",
                lambda p, i: s.get(s.sessions, "checkout.session", i),
            ),
            api("POST", "/v1/billing_portal/sessions", s.create_portal_session),
            api("POST", "/v1/subscriptions", s.create_subscription),
            api(
                "GET",
                "/v1/subscriptions",
                lambda p: self._page(
                    s.list_subscriptions(p), p, "/v1/subscriptions", "subscription"
                ),
            ),
            api(
                "GET",
                "/v1/subscriptions/{id}",
                lambda p, i: s.get(s.subscriptions, "subscription", i),
            ),
            api(
                "POST",
                "/v1/subscriptions/{id}",
                lambda p, i: s.update_subscription(i, p),
            ),
            api(
                "DELETE",
                "/v1/subscriptions/{id}",
                lambda p, i: s.cancel_subscription(i),
            ),
            api("POST", "/v1/invoices/create_preview", s.preview_invoice),
            api(
                "GET",
                "/v1/invoices",
                lambda p: self._page(s.list_invoices(p), p, "/v1/invoices", "invoice"),
            ),
            api(
                "GET", "/v1/invoices/{id}", lambda p, i: s.get(s.invoices, "invoice", i)
            ),
            api(
                "GET",
                "/v1/events",
                lambda p: self._page(
                    [
                        e
                        for e in reversed(s.events.values())
                        if not p.get("type") or e["type"] == p.get("type")
                    ],
                    p,
                    "/v1/events",
                    "event",
                ),
            ),
            api("GET", "/v1/events/{id}", lambda p, i: s.get(s.events, "event", i)),
            page("/checkout/{id}", self._checkout_page),
            page("/portal/{id}", self._portal_page),
            page("/invoices/{id}/pay", self._invoice_page),
            page(r"/invoices/([^/]+)\.pdf", self._invoice_pdf),
            control("GET", "health", self._c_health),
            control("GET", "events", self._c_events),
            control("GET", "events/{id}", self._c_event),
            control("GET", "requests", lambda b: {"data": list(self.requests)}),
            control("POST", "advance", self._c_advance),
            control("POST", "fail-next-payment", self._c_fail_next_payment),
            control("POST", "renew", lambda b: self._sub_action(b, s.renew)),
            control(
                "POST",
                "trial-will-end",
                lambda b: self._sub_action(b, s.trial_will_end),
            ),
            control("POST", "end-trial", lambda b: self._sub_action(b, s.end_trial)),
            control("POST", "pause", lambda b: self._sub_action(b, s.pause)),
            control("POST", "resume", lambda b: self._sub_action(b, s.resume)),
            control("POST", "replay", self._c_replay),
            control("POST", "flush", self._c_flush),
            control("POST", "reset", self._c_reset),
        ]

    # --- pages --------------------------------------------------------------------

    def _create_webhook_endpoint(self, params: Mapping[str, Any]) -> Obj:
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
            "created": self.clock.now(),
        }
        self.webhook_endpoints.append(endpoint)
        return {**endpoint, "secret": self.sender.secret}

    def _checkout_page(self, query: str, session_id: str) -> Response:
        session = self.state.sessions.get(session_id)
        if session is None:
            return _html(
                404, pages.page("Not found", "<p>No such Checkout session.</p>")
            )
        if "cancel" in parse_form(query) and session["status"] == "open":
            if session["cancel_url"]:
                return Response(
                    303, b"", "text/plain", {"Location": session["cancel_url"]}
                )
            return _html(
                200, pages.page("Checkout canceled", "<p>Nothing was paid.</p>")
            )
        session = self.state.complete_checkout(session_id)
        if session["success_url"]:
            target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
            return Response(303, b"", "text/plain", {"Location": target})
        sub = self.state.subscriptions.get(session["subscription"] or "")
        return _html(200, pages.checkout_done(session, sub))

    def _portal_page(self, query: str, portal_id: str) -> Response:
        portal = self.state.portal_sessions.get(portal_id)
        if portal is None:
            return _html(404, pages.page("Not found", "<p>No such portal session.</p>"))
        subs = self.state.list_subscriptions(
            {"customer": portal["customer"], "status": "all"}
        )
        return _html(200, pages.portal(portal, subs))

    def _invoice_page(self, query: str, invoice_id: str) -> Response:
        invoice = self.state.invoices.get(invoice_id)
        if invoice is None:
            return _html(404, pages.page("Not found", "<p>No such invoice.</p>"))
        was_open = invoice["status"] == "open"
        invoice = self.state.pay_invoice(invoice_id)
        return _html(200, pages.invoice_page(invoice, was_open))

    def _invoice_pdf(self, query: str, invoice_id: str) -> Response:
        invoice = self.state.invoices.get(invoice_id)
        if invoice is None:
            return _html(404, pages.page("Not found", "<p>No such invoice.</p>"))
        return Response(200, pages.invoice_pdf(invoice), "application/pdf")

    # --- control ------------------------------------------------------------------

    def _c_health(self, body: Obj) -> Obj:
        return {
            "ok": True,
            "api_version": API_VERSION,
            "now": self.clock.now(),
            "offset": self.clock.offset,
            "webhook_url": self.webhook_url,
            "pending_deliveries": self.sender.pending(),
            "stripe_versions": sorted(
                {r["stripe_version"] for r in self.requests if r["stripe_version"]}
            ),
        }

    def _event_summary(self, event: Obj) -> Obj:
        deliveries = self.sender.deliveries(event["id"])
        return {
            "id": event["id"],
            "type": event["type"],
            "created": event["created"],
            "object": event["data"]["object"].get("id"),
            "status": deliveries[-1].status if deliveries else "not_sent",
            "deliveries": [d.as_dict() for d in deliveries],
        }

    def _c_events(self, body: Obj) -> Obj:
        return {"data": [self._event_summary(e) for e in self.state.events.values()]}

    def _c_event(self, body: Obj, event_id: str) -> Obj:
        event = self.state.get(self.state.events, "event", event_id)
        return {"event": event, **self._event_summary(event)}

    def _c_advance(self, body: Obj) -> Obj:
        seconds = 0.0
        for name, unit in (
            ("seconds", 1),
            ("minutes", 60),
            ("hours", 3600),
            ("days", 86400),
        ):
            value = body.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise StripeError(400, f"{name} must be a number", param=name)
            seconds += value * unit
        count = self.state.advance(int(seconds))
        return {"offset": self.clock.offset, "now": self.clock.now(), "events": count}

    def _c_fail_next_payment(self, body: Obj) -> Obj:
        target = body.get("subscription") or body.get("customer")
        if not isinstance(target, str) or not target:
            raise StripeError(
                400, "give a customer or a subscription id", param="customer"
            )
        action_required = bool(body.get("action_required"))
        self.state.fail_next_payment(target, action_required)
        return {
            "armed": target,
            "failure": "action_required" if action_required else "failed",
        }

    def _sub_action(self, body: Obj, action: Callable[[str], Obj]) -> Obj:
        sub_id = body.get("subscription")
        if not isinstance(sub_id, str) or not sub_id:
            raise StripeError(400, "give a subscription id", param="subscription")
        first = len(self.state.events)
        sub = action(sub_id)
        return {
            "subscription": copy.deepcopy(sub),
            "events": [e["id"] for e in list(self.state.events.values())[first:]],
        }

    def _c_replay(self, body: Obj) -> Obj:
        event_id = body.get("event")
        if not isinstance(event_id, str) or event_id not in self._bodies:
            raise StripeError(
                404, f"No such event: '{event_id}'", code="resource_missing"
            )
        delivery = self.sender.enqueue(event_id, self._bodies[event_id], released=False)
        assert self._held is not None
        self._held.append(delivery)
        return {"event": event_id, "type": self.state.events[event_id]["type"]}

    def _c_flush(self, body: Obj) -> Obj:
        timeout = body.get("timeout", 10)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise StripeError(400, "timeout must be a number", param="timeout")
        if not self.sender.flush(float(timeout)):
            raise StripeError(
                504,
                f"{self.sender.pending()} webhook deliveries still pending after "
                f"{timeout} s",
            )
        return {"flushed": True, "pending": 0}

    def _c_reset(self, body: Obj) -> Obj:
        self.sender.clear()
        self.clock.reset()
        self.state.reset()
        self._bodies.clear()
        self._idempotency.clear()
        self.requests.clear()
        return {"reset": True}


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
