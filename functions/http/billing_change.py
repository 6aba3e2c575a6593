"""Move to another plan or interval, prorated: the new subscription; with
`?preview=true`, only what it would invoice now."""

from core.domain.billing import Interval
from functions.runtime import api

SAME = "No live subscription, or already on this price"
TAKEN = ("no_subscription", "already_subscribed", "concurrent_update")
UNPAID = "`payment_failed`: not paid, so not applied; pay at `payment_url`"
INVALID = "Invalid input, or `invalid_proration_token`: forged, stale or foreign"
PLAN = ("invalid_input", "invalid_proration_token", "unknown_plan", "price_unavailable")


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
    body: api.ChangeRequest,
    ctx: api.LoggedIn,
    preview: bool = api.Query(default=False, description="Only show the proration"),
) -> api.SubscriptionOut | api.ChangePreview:
    plan, interval, user = body.plan, Interval(body.interval), ctx.user
    if preview:
        shown = ctx.container.preview_plan_change().execute(user, plan, interval)
        return api.ChangePreview.model_validate(shown, from_attributes=True)
    token = body.proration_token
    changed = ctx.container.change_plan().execute(user, plan, interval, token)
    return api.SubscriptionOut.of(changed)
