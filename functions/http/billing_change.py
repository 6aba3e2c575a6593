"""Move to another plan or interval, prorated: the new subscription; with
`?preview=true`, only what it would invoice now."""

from core.domain.billing import Interval
from functions.runtime import api

SAME = "No live subscription, or already on this price"
TAKEN = ("no_subscription", "already_subscribed", "concurrent_update")
UNPAID = "`payment_failed`: not paid, so not applied; pay at `payment_url`"
INVALID = "Invalid input, or `invalid_proration_token`: forged, stale or foreign"
PLAN = ("invalid_input", "invalid_proration_token", "unknown_plan", "price_unavailable")


class ChangeRequest(api.Body):
    plan: str = api.Field(min_length=1, max_length=32)
    interval: api.BillingInterval = "month"
    # From a preview (signed by the server, good for a few minutes): the change
    # then charges exactly what the preview showed. Without it: prorated now.
    proration_token: str | None = api.Field(default=None, min_length=1, max_length=2048)


class ChangePreview(api.BaseModel):
    # What the change would invoice now, in the currency's smallest unit.
    amount_due: int
    currency: str
    # Send it back with the change to be charged exactly ``amount_due``.
    proration_token: str


# Authenticate, store what Stripe answered (a preview only authenticates).
@api.endpoint(
    "POST /api/v1/billing/subscription/change", api.p.CHANGE_BILLING, budget=2
)
@api.counts({402: "PaymentsFailed"})
@api.sample(query={"preview": "true"}, body={"plan": "business"})
@api.problems(
    {402: (UNPAID, "payment_failed"), 409: (SAME, *TAKEN), 422: (INVALID, *PLAN)}
)
def billing_change(
    body: ChangeRequest,
    ctx: api.LoggedIn,
    preview: bool = api.Query(default=False, description="Only show the proration"),
) -> api.SubscriptionOut | ChangePreview:
    plan, interval, user = body.plan, Interval(body.interval), ctx.user
    if preview:
        shown = ctx.container.preview_plan_change().execute(user, plan, interval)
        return ChangePreview.model_validate(shown, from_attributes=True)
    token = body.proration_token
    changed = ctx.container.change_plan().execute(user, plan, interval, token)
    return api.SubscriptionOut.of(changed)
