"""The Stripe emulator wired to the webhook Lambda handler, in one process, for the
function tests.

``StripeControl`` drives an emulator made in this process (``stripe_emulator.
inprocess``: no socket, no thread) from a test: its control operations (advance the
clock, arm a failed payment, renew, replay, reset), its Checkout and invoice
pages, and its API (customers, events) for what a test checks. The emulator sends
no webhook by itself: ``flush`` hands every event it made since, signed as Stripe
signs them, to ``Relay``, which turns each into an API Gateway HTTP API event for
the ``stripe_webhook`` handler (the raw body, the ``Stripe-Signature`` header).
Events thus flow emulator -> webhook handler -> the container's stores, as in AWS
but without the network. (``make dev`` and the end-to-end tests serve the same
emulator over HTTP and deliver its webhooks over HTTP.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

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
class Relay:
    """Hands webhook deliveries to the ``stripe_webhook`` handler, as the endpoint
    Stripe posts to, and keeps what it answered (``deliveries``).

    While ``holding`` is set, deliveries are kept in ``held`` (body, signature)
    and answered 200 without reaching the handler, for tests that deliver them
    themselves (out of order, several times).
    """

    deliveries: list[Delivered] = field(default_factory=list)
    held: list[tuple[bytes, str]] = field(default_factory=list)
    holding: bool = False

    def __post_init__(self) -> None:
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


def _event_summary(body: bytes) -> tuple[str, str]:
    try:
        event = json.loads(body)
        return str(event.get("id")), str(event.get("type"))
    except (ValueError, AttributeError):
        return "?", "?"


class StripeControl:
    """A test's handle on its in-process emulator: what would go over HTTP goes to
    ``Emulator.handle``, and the events the emulator made (and the replays asked
    for) are delivered to the webhook handler, through ``relay``, when the test
    flushes, in the order they were made."""

    def __init__(self, emulator: Any, relay: Relay) -> None:
        self.emulator = emulator
        self.relay = relay
        self.url: str = emulator.url
        self._delivered = 0
        self._replays: list[str] = []

    def _send(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> Any:
        response, held = self.emulator.handle(method, path, headers or {}, body)
        self.emulator.release(held)
        return response

    def _api(self, method: str, path: str) -> Any:
        response = self._send(
            method, path, headers={"authorization": f"Bearer {LOCAL_STRIPE_API_KEY}"}
        )
        assert response.status == 200, response.body
        return json.loads(response.body)

    def control(self, name: str, **body: Any) -> Any:
        response = self._send("POST", f"/_emulator/{name}", json.dumps(body).encode())
        if response.status != 200:
            raise AssertionError(f"/_emulator/{name}: {response.body!r}")
        if name == "replay":
            self._replays.append(str(body["event"]))
        return json.loads(response.body)

    def reset(self) -> None:
        self.control("reset")
        self.relay.clear()
        self._delivered = 0
        self._replays.clear()

    def flush(self, timeout: float = 15.0) -> None:
        """Deliver every event not yet delivered, and those the deliveries cause."""
        from stripe_emulator.webhooks import USER_AGENT, signature_header

        while True:
            events = list(self.emulator.state.events)
            due = [*events[self._delivered :], *self._replays]
            if not due:
                return
            self._delivered = len(events)
            self._replays.clear()
            for event_id in due:
                body = self.emulator.bodies[event_id]
                signature = signature_header(
                    self.emulator.sender.secret, body, self.emulator.clock.current()
                )
                self.relay.receive(
                    body,
                    signature,
                    {
                        "content-type": "application/json; charset=utf-8",
                        "user-agent": USER_AGENT,
                    },
                )

    def pay(self, url: str) -> httpx.Response:
        assert url.startswith(self.url), url
        parts = urlsplit(url)
        response = self._send(
            "GET", parts.path + (f"?{parts.query}" if parts.query else "")
        )
        assert response.status in (200, 303), response.body
        return httpx.Response(
            response.status,
            headers={"Content-Type": response.content_type, **response.headers},
            content=response.body,
        )

    def api(self, path: str, **params: Any) -> Any:
        query = urlencode(params)
        return self._api("GET", f"{path}?{query}" if query else path)

    def delete_customer(self, customer_id: str) -> Any:
        return self._api("DELETE", f"/v1/customers/{customer_id}")

    def api_requests(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = json.loads(
            self._send("GET", "/_emulator/requests").body
        )["data"]
        return [request for request in data if request["stripe_version"]]

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
