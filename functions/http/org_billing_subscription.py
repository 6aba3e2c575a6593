"""An organization's subscription, the plan in force and its seats (admins and
owners)."""

from functions.runtime import api

NOT_ADMIN = "`forbidden`: only the organization's admins and owners"


# Authenticate; the organization with the caller's membership (its subscription
# is on it).
@api.endpoint(
    "GET /api/v1/orgs/{org_id}/billing/subscription",
    (*api.p.AUTHENTICATED, api.p.ORGS_READ),
    budget=2,
)
@api.who("an admin or owner of the organization")
@api.sample(path={"org_id": "org-1"})
@api.problems({403: (NOT_ADMIN, "forbidden")})
@api.problems({404: ("", "organization_not_found")})
def org_billing_subscription(
    org_id: api.Segment, ctx: api.LoggedIn
) -> api.OrgSubscriptionOut:
    view = ctx.container.get_org_subscription().execute(ctx.user, org_id)
    return api.OrgSubscriptionOut.of_org(view)
