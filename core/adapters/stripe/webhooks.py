"""``WebhookVerifier`` for Stripe's signed webhooks.

Stripe signs ``"{t}." + body`` with HMAC-SHA256 under the endpoint's secret and
sends ``Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>...][,v0=<hex>]``
(several ``v1`` while a secret is being rolled; ``v0`` is a test-mode legacy
scheme that is ignored). The check is stripe-python's
``WebhookSignature.verify_header``, without the SDK:

- the MAC is computed over the body's bytes exactly as received: a body that was
  parsed and re-serialized (other spacing, other key order) no longer matches;
- every ``v1`` is compared in constant time, and one match is enough;
- an event signed more than ``tolerance`` seconds ago is refused, to bound
  replays; a timestamp in the future is not (clocks drift; Stripe's rule).

Any failure raises ``InvalidSignature`` before anything is read from the body,
so nothing is stored for an unverified event. Messages say what was wrong and
never contain the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.adapters.stripe.client import API_VERSION, StripeClient
from core.adapters.stripe.objects import MalformedStripeObject, parse_event
from core.application.errors import InvalidSignature
from core.application.ports import BillingEvent

DEFAULT_TOLERANCE = 300  # seconds; Stripe's own default
SCHEME = "v1"

logger = logging.getLogger("strata.stripe")


class StripeWebhookVerifier:
    """Verifies ``Stripe-Signature`` over the raw body and reads the event.

    ``now`` gives the current Unix time (for tests, and for a clock that must
    agree with the local emulator's).
    """

    def __init__(
        self,
        secret: str,
        tolerance: int = DEFAULT_TOLERANCE,
        now: Callable[[], float] = time.time,
    ) -> None:
        if not secret.strip():
            raise ValueError("the webhook signing secret is empty")
        if tolerance <= 0:
            # stripe-python reads 0 as "no check"; a replay window that never
            # closes is not something to get by accident.
            raise ValueError("the tolerance is a positive number of seconds")
        self._key = secret.encode()
        self._tolerance = tolerance
        self._now = now

    def verify(self, payload: bytes, signature_header: str) -> BillingEvent:
        timestamp, signatures = _parse_header(signature_header)
        expected = self._sign(timestamp, payload)
        if not any(hmac.compare_digest(expected, given) for given in signatures):
            raise InvalidSignature("no signature in Stripe-Signature matches the body")
        if timestamp < self._now() - self._tolerance:
            raise InvalidSignature(
                f"the signature is older than {self._tolerance} seconds"
            )
        return _read_event(payload)

    def _sign(self, timestamp: int, payload: bytes) -> bytes:
        signed = f"{timestamp}.".encode() + bytes(payload)
        return hmac.new(self._key, signed, hashlib.sha256).hexdigest().encode()


def _parse_header(header: str | None) -> tuple[int, list[bytes]]:
    """``t`` and every ``v1`` of a ``Stripe-Signature`` value."""
    if not header or not header.strip():
        raise InvalidSignature("the Stripe-Signature header is missing")
    timestamps: list[str] = []
    signatures: list[bytes] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise InvalidSignature("the Stripe-Signature header is garbled")
        if name == "t":
            timestamps.append(value)
        elif name == SCHEME:
            # Compared as bytes: compare_digest refuses non-ASCII text, and a
            # header may carry anything.
            signatures.append(value.encode("utf-8", "replace"))
    if len(timestamps) != 1 or not timestamps[0].isascii():
        raise InvalidSignature("the Stripe-Signature header has no single timestamp")
    if not timestamps[0].isdigit() or len(timestamps[0]) > 12:
        raise InvalidSignature("the Stripe-Signature timestamp is not a Unix time")
    if not signatures:
        raise InvalidSignature("the Stripe-Signature header has no v1 signature")
    return int(timestamps[0]), signatures


def _read_event(payload: bytes) -> BillingEvent:
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise InvalidSignature("the webhook body is not JSON") from None
    try:
        event = parse_event(data)
    except MalformedStripeObject as exc:
        raise InvalidSignature(
            f"the webhook body is not a Stripe event: {exc}"
        ) from None
    version = data.get("api_version")
    if version is not None and version != API_VERSION:
        # The endpoint's version is set in Stripe's dashboard; a mismatch means
        # shapes may differ from what ``objects`` reads. Logged, not refused:
        # refusing would make Stripe retry, and fail, for three days.
        logger.warning(
            "stripe event %s has api_version %r; the client pins %s",
            event.id,
            version,
            API_VERSION,
        )
    return event


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: str
    url: str
    api_version: str
    # Stripe shows the signing secret only in the answer that creates the endpoint.
    secret: str


def register_endpoint(
    client: StripeClient, url: str, events: Iterable[str]
) -> WebhookEndpoint:
    """Create Stripe's webhook endpoint for ``url``, sending ``events``, pinned to
    the API version this adapter speaks, so the events' objects have the shapes it
    reads (an endpoint without a version gets the account's default)."""
    answer = client.post(
        "/v1/webhook_endpoints",
        {
            "url": url,
            "api_version": API_VERSION,
            "enabled_events": sorted(events),
            "description": "Strata",
        },
        idempotency_key=f"webhook-endpoint-{hashlib.sha256(url.encode()).hexdigest()[:32]}",
    )
    return WebhookEndpoint(
        id=str(answer["id"]),
        url=str(answer["url"]),
        api_version=str(answer.get("api_version") or ""),
        secret=str(answer.get("secret") or ""),
    )
