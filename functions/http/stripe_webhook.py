"""Stripe's events (signed): `{received, outcome}`; 400 `invalid_signature`.

No session: the `Stripe-Signature` header, checked over the raw body exactly as it
arrived (Mangum has already undone API Gateway's base64 when the event says so).
"""

from functions.runtime import api, webhooks

USERS = (*api.p.USERS, *api.p.TASKS, api.p.QUEUE_EMAIL, api.p.STRIPE_API)
# An organization's subscription events are stored on its item.
GRANTS = (*USERS, api.p.ORGS_READ, api.p.ORGS_WRITE)
SIGNED = {"stripe-signature": "t=1767261620,v1=PASTE_A_SIGNATURE"}


class WebhookAck(api.BaseModel):
    received: bool
    # applied, duplicate (seen before: nothing done) or ignored (not an event
    # type Strata acts on, or for no user it knows).
    outcome: str


# Event ids in the tasks table (read to skip a duplicate, write to record it), emails
# through the task queue. The dearest event, invoice.paid: was it processed, whose
# customer, the user; the event and the new state in one transaction; its
# subscription re-read (as when two events carry the same timestamp); and the
# "subscription started" email (a Checkout subscription is incomplete until then).
@api.endpoint("POST /api/v1/webhooks/stripe", (*GRANTS, api.p.STRIPE_WEBHOOK), budget=5)
@api.who("Stripe")
@api.sample(body_file="stripe/customer.subscription.updated.json", headers=SIGNED)
@api.problems({400: ""})
# The body is read raw (the signature covers its exact bytes): say what Stripe sends.
@api.openapi_extra(webhooks.SIGNED_EVENT_BODY, tag="billing")
async def stripe_webhook(request: api.Request, container: api.Container) -> WebhookAck:
    payload = await request.body()
    signature = request.headers.get("stripe-signature", "")
    # Blocking work (DynamoDB, maybe Stripe) goes to a worker thread, as FastAPI
    # does for plain routes, so the dev server's event loop keeps serving.
    handle = container.handle_stripe_event().execute
    handled = await api.run_in_threadpool(handle, payload, signature)
    webhooks.record(handled)
    return WebhookAck(received=True, outcome=handled.outcome.value)
