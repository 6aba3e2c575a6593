"""The local Stripe emulator wired to the webhook Lambda handler, in one process.

``WebhookRelay`` is the emulator's webhook URL: a tiny HTTP server on loopback that
turns every POST into an API Gateway HTTP API event for the ``stripe_webhook``
handler (the raw body, the ``Stripe-Signature`` header) and answers the emulator
with the handler's status. Events thus flow emulator -> webhook handler -> moto,
exactly as in AWS but without the network hop through API Gateway.

``StripeControl`` drives the emulator from a test: its control endpoints (advance
the clock, arm a failed payment, renew, replay, reset), Checkout pages, and its
API (customers, events) for what a test checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from functions.catalog import BY_NAME, Endpoint
from functions.runtime.settings import LOCAL_STRIPE_API_KEY, LOCAL_STRIPE_WEBHOOK_SECRET
from local.harness import Reply, invoke

WEBHOOK = BY_NAME["stripe_webhook"]


def sign(body: bytes | str, timestamp: int | None = None, secret: str = "") -> str:
    """A ``Stripe-Signature`` for ``body``, made by stripe-python itself (the dev
    extra installs it), else (or for bytes that are not UTF-8, which the SDK cannot
    sign) by the emulator's own signer."""
    secret = secret or LOCAL_STRIPE_WEBHOOK_SECRET
    raw = body if isinstance(body, bytes) else body.encode()
    try:
        import stripe

        text = raw.decode()
    except (ImportError, UnicodeDecodeError):
        from stripe_emulator import signature_header

        return signature_header(secret, raw, timestamp)
    header: str = stripe.WebhookSignature.generate_signature_header(
        text, secret, timestamp=timestamp
    )
    return header


def deliver(
    body: bytes | str,
    signature: str | None,
    *,
    base64_body: bool = False,
    headers: dict[str, str] | None = None,
) -> Reply:
    """POST ``body`` to the webhook handler as API Gateway would, in this thread."""
    sent = dict(headers or {})
    if signature is not None:
        sent["stripe-signature"] = signature
    # Bytes travel base64-encoded (``isBase64Encoded``), text as it is.
    raw: bytes | str = (
        (body if isinstance(body, bytes) else body.encode())
        if base64_body
        else _text(body)
    )
    return _invoke_in_any_thread(raw, sent)


def _text(body: bytes | str) -> str:
    return body.decode() if isinstance(body, bytes) else body


def _invoke_in_any_thread(raw: bytes | str, headers: dict[str, str]) -> Reply:
    return invoke_in_any_thread(WEBHOOK, raw_body=raw, headers=headers)


def invoke_in_any_thread(
    endpoint: Endpoint, path: str | None = None, **kwargs: Any
) -> Reply:
    """``invoke``, from any thread. Mangum runs the app on
    ``asyncio.get_event_loop()``, which only the main thread has by default: give
    this thread one for the call."""
    if threading.current_thread() is threading.main_thread():
        return invoke(endpoint, path, **kwargs)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return invoke(endpoint, path, **kwargs)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


@dataclass
class Delivered:
    """One webhook delivery the relay handed to the handler, and its answer."""

    event_id: str
    event_type: str
    status: int
    outcome: str | None
    body: bytes


@dataclass
class WebhookRelay:
    """The emulator's webhook endpoint (see the module docstring).

    While ``holding`` is set, deliveries are kept in ``held`` (body, signature)
    and answered 200 without reaching the handler, for tests that deliver them
    themselves (out of order, several times).
    """

    deliveries: list[Delivered] = field(default_factory=list)
    held: list[tuple[bytes, str]] = field(default_factory=list)
    holding: bool = False

    def __post_init__(self) -> None:
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                signature = self.headers.get("Stripe-Signature")
                status, answer = relay.receive(
                    body,
                    signature,
                    {
                        "content-type": self.headers.get(
                            "Content-Type", "application/json"
                        ),
                        "user-agent": self.headers.get("User-Agent", "Stripe/1.0"),
                    },
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = (
            f"http://127.0.0.1:{self._server.server_address[1]}/api/v1/webhooks/stripe"
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stripe-webhook-relay",
            daemon=True,
        )
        self._thread.start()
        self._lock = threading.Lock()

    def receive(
        self, body: bytes, signature: str | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        event = _event_summary(body)
        if self.holding:
            with self._lock:
                self.held.append((body, signature or ""))
            return 200, b'{"held": true}'
        reply = deliver(body, signature, headers=headers)
        outcome = None
        with contextlib.suppress(ValueError, KeyError, TypeError):
            outcome = reply.json().get("outcome")
        with self._lock:
            self.deliveries.append(
                Delivered(event[0], event[1], reply.status, outcome, body)
            )
        return reply.status, reply.text.encode()

    def clear(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self.held.clear()
            self.holding = False

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _event_summary(body: bytes) -> tuple[str, str]:
    try:
        event = json.loads(body)
        return str(event.get("id")), str(event.get("type"))
    except (ValueError, AttributeError):
        return "?", "?"


class StripeControl:
    """A test's handle on the session's emulator and relay."""

    def __init__(self, emulator: Any, relay: WebhookRelay) -> None:
        self.emulator = emulator
        self.relay = relay
        self.url: str = emulator.url

    # -- the control endpoints --------------------------------------------------------

    def control(self, name: str, **body: Any) -> Any:
        request = urllib.request.Request(  # noqa: S310 (the loopback emulator)
            f"{self.url}/_emulator/{name}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())

    def reset(self) -> None:
        self.flush()
        self.control("reset")
        self.relay.clear()

    def flush(self, timeout: float = 15.0) -> None:
        """Every event so far delivered to the handler (or failed)."""
        assert self.emulator.flush(timeout), "webhook deliveries still pending"

    def advance(self, **duration: float) -> Any:
        return self.control("advance", **duration)

    def fail_next_payment(self, target: str, *, action_required: bool = False) -> Any:
        return self.control(
            "fail-next-payment", customer=target, action_required=action_required
        )

    def renew(self, subscription_id: str) -> Any:
        return self.control("renew", subscription=subscription_id)

    def replay(self, event_id: str) -> Any:
        return self.control("replay", event=event_id)

    # -- pages and the API -----------------------------------------------------------

    def pay(self, url: str) -> httpx.Response:
        """Open a Checkout page or a hosted invoice page, as the buyer's browser
        would: that completes the purchase. The redirect back to the app is not
        followed (no front end runs here)."""
        assert url.startswith(self.url), url
        response = httpx.get(url, follow_redirects=False, timeout=30)
        assert response.status_code in (200, 303), response.text
        return response

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(
            f"{self.url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {LOCAL_STRIPE_API_KEY}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def delete_customer(self, customer_id: str) -> Any:
        """Delete a customer, as the Stripe dashboard does."""
        response = httpx.delete(
            f"{self.url}/v1/customers/{customer_id}",
            headers={"Authorization": f"Bearer {LOCAL_STRIPE_API_KEY}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def customers(self, email: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": 100}
        if email:
            params["email"] = email
        data: list[dict[str, Any]] = self.api("/v1/customers", **params)["data"]
        return data

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Every event, oldest first."""
        params: dict[str, Any] = {"limit": 100}
        if event_type:
            params["type"] = event_type
        data: list[dict[str, Any]] = self.api("/v1/events", **params)["data"]
        return list(reversed(data))

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        data: dict[str, Any] = self.api(f"/v1/subscriptions/{subscription_id}")
        return data

    def api_requests(self) -> list[dict[str, Any]]:
        """The Stripe API requests (``/v1/...``) Strata made, oldest first: those
        that pin a ``Stripe-Version``, as Strata's client does and ``api`` here
        does not."""
        response = httpx.get(f"{self.url}/_emulator/requests", timeout=30)
        data: list[dict[str, Any]] = response.json()["data"]
        return [request for request in data if request["stripe_version"]]

    @contextlib.contextmanager
    def holding(self) -> Iterator[list[tuple[bytes, str]]]:
        """Keep the deliveries made inside from the handler; yields them (body,
        signature) once flushed."""
        self.relay.holding = True
        held = self.relay.held
        try:
            yield held
        finally:
            self.flush()
            self.relay.holding = False
