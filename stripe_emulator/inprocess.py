"""The emulator in-process: no socket, no thread, for unit and function tests.

    emulator = in_process(prices, clock_source=lambda: fake_clock.now().timestamp())
    pool = InProcessPool(emulator)          # what a Stripe HTTP client sends through
    pool.request("GET", "http://stripe.emulator/v1/customers", headers={...})
    for payload, signature in deliveries(emulator, since=0): ...

``InProcessPool`` has the part of ``urllib3.PoolManager`` a Stripe client uses
(``request(method, url, body=None, headers=None, **kwargs)``, answering an object
with ``status``, ``data`` and ``headers``) and hands each request to
``Emulator.handle``, as the HTTP server does. The emulator sends no webhook: its
events are kept (``emulator.state.events``, each one's body in
``emulator.bodies``), and ``deliveries`` hands them out as Stripe would post them,
body and ``Stripe-Signature``, for a test to give to its webhook handler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from urllib3 import HTTPHeaderDict

from stripe_emulator.server import Emulator
from stripe_emulator.webhooks import signature_header

IN_PROCESS_HOST = "stripe.emulator"
DEFAULT_SECRET = "whsec_in_process_emulator_0123456789"  # noqa: S105


@dataclass(frozen=True)
class InProcessResponse:
    status: int
    data: bytes
    headers: HTTPHeaderDict


class InProcessPool:
    """``urllib3.PoolManager.request`` (body and headers by keyword) answered by
    ``emulator.handle``; the keyword arguments of a real pool (timeouts, retries,
    redirects) mean nothing here and are ignored."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> InProcessResponse:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        raw = body.encode() if isinstance(body, str) else (body or b"")
        lowered = {name.lower(): value for name, value in (headers or {}).items()}
        response, held = self.emulator.handle(method.upper(), path, lowered, raw)
        self.emulator.release(held)
        answer = HTTPHeaderDict(
            {
                "Content-Type": response.content_type,
                "Content-Length": str(len(response.body)),
            }
        )
        for name, value in response.headers.items():
            answer[name] = value
        return InProcessResponse(response.status, response.body, answer)


def in_process(
    prices: Iterable[Mapping[str, Any]],
    *,
    secret: str = DEFAULT_SECRET,
    clock_source: Callable[[], float] | None = None,
) -> Emulator:
    """An emulator that listens on nothing and sends no webhook, at
    ``http://stripe.emulator``, whose time is ``clock_source`` (default: the real
    time) plus what ``advance`` added."""
    return Emulator(
        host=IN_PROCESS_HOST,
        port=None,
        webhook_url=None,
        secret=secret,
        prices=prices,
        clock_source=clock_source,
    )


def deliveries(emulator: Emulator, since: int = 0) -> list[tuple[bytes, str]]:
    """The body and ``Stripe-Signature`` (signed now, by the emulator's clock) of
    every event from the ``since``-th on, oldest first, as Stripe would post
    them."""
    now = emulator.clock.now()
    return [
        (
            emulator.bodies[event_id],
            signature_header(emulator.sender.secret, emulator.bodies[event_id], now),
        )
        for event_id in list(emulator.state.events)[since:]
    ]
