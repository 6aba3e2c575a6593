"""Move the organization to another plan or interval, prorated (admins and
owners): the new subscription; with `?preview=true`, only what it would invoice
now. A per-seat plan bills its members, a flat plan one unit; the seat limit
becomes the new plan's."""

from core.domain.billing import Interval
from functions.runtime import api

UNPAID = "`payment_failed`: not paid, so not applied; pay at `payment_url`"
SEATS = "`seats_exhausted`: more members than the new plan has seats"
SAME = "No live subscription, or already on this price"
TAKEN = ("no_subscription", "already_subscribed", "concurrent_update")
INVALID = "Invalid input, or `invalid_proration_token`: forged, stale or foreign"
PLAN = ("invalid_input", "invalid_proration_token", "unknown_plan", "price_unavailable")


# Authenticate; the organization with the caller's membership; to fewer seats, the
# hold on them before Stripe is asked (one conditional update); one transaction:
# what Stripe answered, the audit entry, the hold's release (a preview stops after
# the read).
@api.endpoint(
    "POST /api/v1/orgs/{org_id}/billing/subscription/change",
    (*api.p.CHANGE_ORG, api.p.STRIPE_API),
    budget=4,
)
@api.who("an admin or owner of the organization")
@api.counts({402: "PaymentsFailed"})
@api.sample(path={"org_id": "org-1"}, query={"preview": "true"}, body={"plan": "pro"})
@api.problems(
    {
        402: (f"{UNPAID}; {SEATS}", "payment_failed", "seats_exhausted"),
        403: api.ORG_ROLE_REFUSED,
        404: api.NOT_A_MEMBER,
        409: (SAME, *TAKEN),
        422: (INVALID, *PLAN),
    }
)
def org_billing_change(
    org_id: api.Segment,
    body: api.ChangeRequest,
    ctx: api.LoggedIn,
    preview: bool = api.Query(default=False, description="Only show the proration"),
) -> api.OrgSubscriptionOut | api.ChangePreview:
    plan, interval, user = body.plan, Interval(body.interval), ctx.user
    if preview:
        quote = ctx.container.preview_org_plan_change()
        shown = quote.execute(user, org_id, plan, interval)
        return api.ChangePreview.model_validate(shown, from_attributes=True)
    change = ctx.container.change_org_plan()
    changed = change.execute(user, org_id, plan, interval, body.proration_token)
    return api.OrgSubscriptionOut.of_org(changed)
