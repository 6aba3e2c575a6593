"""Start an organization's subscription (admins and owners): `{url}` of Stripe
Checkout, for as many seats as it has members on a per-seat plan."""

from core.domain.billing import Interval
from functions.runtime import api

HAVE_ONE = "The organization has a subscription: change it instead"
UNSOLD = ("unknown_plan", "price_unavailable")
UNVERIFIED = "`email_not_verified`: verify your email address before buying"
NOT_ADMIN = "`forbidden`: only the organization's admins and owners"
SEATS = "`seats_exhausted`: more members than the plan has seats"


# Authenticate; the organization with the caller's membership; store its new Stripe
# customer with its claim (one transaction); the audit entry. At Stripe: the
# customer (first purchase only), the Checkout session.
@api.endpoint(
    "POST /api/v1/orgs/{org_id}/billing/checkout",
    (*api.p.AUTHENTICATED, api.p.ORGS_READ, api.p.ORGS_WRITE, api.p.STRIPE_API),
    budget=4,
    stripe=2,
)
@api.who("an admin or owner of the organization")
@api.sample(
    path={"org_id": "org-1"},
    body={"plan": "team", "interval": "month", "currency": "usd"},
)
@api.problems({402: (SEATS, "seats_exhausted"), 409: (HAVE_ONE, "subscription_exists")})
@api.problems({403: (NOT_ADMIN, "forbidden", "email_not_verified")})
@api.problems({404: ("", "organization_not_found"), 422: ("", *UNSOLD)})
def org_billing_checkout(
    org_id: api.Segment, body: api.PlanChoice, ctx: api.LoggedIn
) -> api.RedirectUrl:
    buy = (body.plan, Interval(body.interval), body.currency)
    url = ctx.container.start_org_checkout().execute(ctx.user, org_id, *buy)
    return api.RedirectUrl(url=url)
