"""What the Stripe webhook's answer tells an operator: one log line per event and
its business counts, kept out of the controller (it only parses and answers)."""

from __future__ import annotations

import logging

from core.application.billing import HANDLED_EVENTS
from core.application.commands.handle_stripe_event import Handled, Outcome
from functions.resources import CHECKOUTS_COMPLETED, PAYMENTS_FAILED, WEBHOOK_EVENTS
from functions.runtime.observability import count, count_with
from functions.runtime.problems import raw_body

logger = logging.getLogger("strata.webhook")
# Stripe's events that are business events, counted once applied.
BUSINESS = {
    "checkout.session.completed": CHECKOUTS_COMPLETED,
    "invoice.payment_failed": PAYMENTS_FAILED,
}
# What Stripe posts, for the OpenAPI document: the route reads the body raw, since
# the signature covers its exact bytes.
_STRING = {"type": "string"}
_OBJECT = {"type": "object"}
_FIELDS = {
    "id": _STRING,
    "type": _STRING,
    "created": {"type": "integer"},
    "data": _OBJECT,
}
_EVENT = {**_OBJECT, "required": [*_FIELDS], "properties": _FIELDS}
SIGNED_EVENT_BODY = raw_body(
    _EVENT, "A Stripe event, exactly as Stripe signed it", "Stripe-Signature"
)


def record(handled: Handled) -> None:
    """Log the event's id, type and outcome, and count it by type and outcome (a
    type Strata does not act on is "other", so the metric's dimensions stay a
    bounded set); an applied business event adds to its own count too."""
    outcome = handled.outcome.value
    event = {"event": handled.event_id, "type": handled.event_type, "outcome": outcome}
    logger.info("stripe webhook handled", extra=event)
    kind = handled.event_type if handled.event_type in HANDLED_EVENTS else "other"
    count_with(WEBHOOK_EVENTS, {"type": kind, "outcome": outcome})
    if handled.outcome is Outcome.APPLIED and kind in BUSINESS:
        count(BUSINESS[kind])
