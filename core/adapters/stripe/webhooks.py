"""``WebhookVerifier`` for Stripe's signed webhooks.

Stripe signs ``"{t}." + body`` with HMAC-SHA256 under the endpoint's secret and
sends ``Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>...][,v0=<hex>]``
(several ``v1`` while a secret is being rolled; ``v0`` is a test-mode legacy
scheme that is ignored). The MAC is checked by the SDK's
``WebhookSignature.verify_header``: over the body exactly as received (a body
parsed and re-serialized no longer matches), every ``v1`` compared in constant
time, one match enough. Around it, what the SDK leaves loose:

- the header must hold exactly one ``t``, a plain Unix time (the SDK takes the
  first of several, and ``int()`` of anything);
- the header must be ASCII (the SDK's compare raises ``TypeError`` otherwise);
- the body must be UTF-8 (the SDK would raise a ``UnicodeDecodeError``);
- an event signed more than ``tolerance`` seconds before ``now()`` is refused, to
  bound replays, on our clock rather than the SDK's ``time.time()`` (so tests and
  the local stack can move it); a timestamp in the future is not (Stripe's rule),
  and a tolerance of 0 (the SDK's "no check") is refused at construction.

Any failure raises ``InvalidSignature`` before anything is read from the body,
so nothing is stored for an unverified event. Messages say what was wrong and
never contain the secret.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import stripe

from core.adapters.stripe.client import API_VERSION, call
from core.adapters.stripe.objects import MalformedStripeObject, parse_event
from core.application.errors import InvalidSignature
from core.application.ports import BillingEvent

DEFAULT_TOLERANCE = stripe.Webhook.DEFAULT_TOLERANCE  # 300 s
SCHEME = stripe.WebhookSignature.EXPECTED_SCHEME  # "v1"

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
        self._secret = secret
        self._tolerance = tolerance
        self._now = now

    def verify(self, payload: bytes, signature_header: str) -> BillingEvent:
        timestamp = _timestamp(signature_header)
        try:
            text = bytes(payload).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidSignature("the webhook body is not JSON (not UTF-8)") from None
        try:
            # No tolerance here: the SDK's would read time.time(); ours is below.
            stripe.WebhookSignature.verify_header(
                text, signature_header, self._secret, tolerance=None
            )
        except stripe.SignatureVerificationError as exc:
            # The SDK's message names what failed; it never holds the secret.
            raise InvalidSignature(
                f"Stripe-Signature does not verify: {exc.user_message}"
            ) from None
        if timestamp < self._now() - self._tolerance:
            raise InvalidSignature(
                f"the signature is older than {self._tolerance} seconds"
            )
        return _read_event(payload)


def _timestamp(header: str | None) -> int:
    """The single ``t`` of a ``Stripe-Signature`` value, which must also carry a
    ``v1``."""
    if not header or not header.strip():
        raise InvalidSignature("the Stripe-Signature header is missing")
    if not header.isascii():
        # The SDK's constant-time compare raises TypeError on non-ASCII text.
        raise InvalidSignature("the Stripe-Signature header is not ASCII")
    timestamps: list[str] = []
    signed = False
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise InvalidSignature("the Stripe-Signature header is garbled")
        if name == "t":
            timestamps.append(value)
        elif name == SCHEME:
            signed = True
    if len(timestamps) != 1 or not timestamps[0].isascii():
        raise InvalidSignature("the Stripe-Signature header has no single timestamp")
    if not timestamps[0].isdigit() or len(timestamps[0]) > 12:
        raise InvalidSignature("the Stripe-Signature timestamp is not a Unix time")
    if not signed:
        raise InvalidSignature("the Stripe-Signature header has no v1 signature")
    return int(timestamps[0])


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
    client: stripe.StripeClient, url: str, events: Iterable[str]
) -> WebhookEndpoint:
    """Create Stripe's webhook endpoint for ``url``, sending ``events``, pinned to
    the API version this adapter speaks, so the events' objects have the shapes it
    reads (an endpoint without a version gets the account's default)."""
    key = f"webhook-endpoint-{hashlib.sha256(url.encode()).hexdigest()[:32]}"
    # The event names are the SDK's Literals; ours are plain strings.
    enabled: Any = sorted(events)
    answer = call(
        lambda: client.v1.webhook_endpoints.create(
            {
                "url": url,
                "api_version": API_VERSION,  # type: ignore[typeddict-item]
                "enabled_events": enabled,
                "description": "Strata",
            },
            {"idempotency_key": key},
        )
    )
    return WebhookEndpoint(
        id=str(answer.id),
        url=str(answer.url),
        api_version=str(getattr(answer, "api_version", None) or ""),
        secret=str(getattr(answer, "secret", None) or ""),
    )
