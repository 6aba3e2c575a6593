"""Stripe's events (signed): `{received, outcome}`; 400 `invalid_signature`.

No session: the `Stripe-Signature` header, checked over the raw body exactly as it
arrived (Mangum has already undone API Gateway's base64 when the event says so).
"""

import logging

from fastapi import Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from core.application.billing import HANDLED_EVENTS
from core.application.commands.handle_stripe_event import Outcome
from functions.permissions import QUEUE_EMAIL, STRIPE_API, STRIPE_WEBHOOK, TASKS, USERS
from functions.resources import CHECKOUTS_COMPLETED, PAYMENTS_FAILED, WEBHOOK_EVENTS
from functions.runtime.endpoint import ContainerDep, endpoint
from functions.runtime.observability import count, count_with

logger = logging.getLogger("strata.webhook")


class WebhookAck(BaseModel):
    received: bool
    # applied, duplicate (seen before: nothing done) or ignored (not an event
    # type Strata acts on, or for no user it knows).
    outcome: str


# Stripe's events that are business events, counted once applied.
BUSINESS = {
    "checkout.session.completed": CHECKOUTS_COMPLETED,
    "invoice.payment_failed": PAYMENTS_FAILED,
}
SIGNED = {"stripe-signature": "t=1767261620,v1=PASTE_A_SIGNATURE"}
STRING = {"type": "string"}
EVENT = {
    "type": "object",
    "required": ["id", "type", "created", "data"],
    "properties": {
        "id": STRING,
        "type": STRING,
        "created": {"type": "integer"},
        "data": {"type": "object"},
    },
}
# The body is read raw (the signature covers its exact bytes), so FastAPI cannot
# infer it: say what Stripe sends.
STRIPE_SENDS = {
    "requestBody": {
        "required": True,
        "description": "A Stripe event, exactly as Stripe signed it",
        "content": {"application/json": {"schema": EVENT}},
    },
    "parameters": [
        {"name": "Stripe-Signature", "in": "header", "required": True, "schema": STRING}
    ],
}


# Processed event ids live in the tasks table (read to skip a duplicate, write to
# record it), emails go through the task queue, and a subscription is re-read from
# Stripe when two events carry the same timestamp. The dearest event of a purchase
# (invoice.paid): was it processed, whose customer, the user; the event and the new
# state in one transaction; an invoice or checkout event re-reads its subscription;
# and, as a Checkout subscription is incomplete until this payment, the
# "subscription started" email it is the first to see active.
@endpoint(
    "POST /api/v1/webhooks/stripe",
    (*USERS, *TASKS, QUEUE_EMAIL, STRIPE_API, STRIPE_WEBHOOK),
    budget=5,
    stripe=1,
    sample={
        "body_file": "stripe/customer.subscription.updated.json",
        "headers": SIGNED,
    },
    problems={400: ""},
    who="Stripe",
    tag="billing",
    openapi_extra=STRIPE_SENDS,
)
async def stripe_webhook(request: Request, container: ContainerDep) -> WebhookAck:
    payload = await request.body()
    stripe_signature = request.headers.get("stripe-signature", "")
    # Blocking work (DynamoDB, maybe Stripe) goes to a worker thread, as FastAPI
    # does for plain routes, so the dev server's event loop keeps serving.
    handled = await run_in_threadpool(
        container.handle_stripe_event().execute, payload, stripe_signature
    )
    outcome = handled.outcome
    logger.info(
        "stripe webhook handled",
        extra={
            "event": handled.event_id,
            "type": handled.event_type,
            "outcome": outcome.value,
        },
    )
    # A type Strata does not act on is "other": the metric's dimensions stay a
    # bounded set.
    kind = handled.event_type if handled.event_type in HANDLED_EVENTS else "other"
    count_with(WEBHOOK_EVENTS, {"type": kind, "outcome": outcome.value})
    if outcome is Outcome.APPLIED and kind in BUSINESS:
        count(BUSINESS[kind])
    return WebhookAck(received=True, outcome=outcome.value)
