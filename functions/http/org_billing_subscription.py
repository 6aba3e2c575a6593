"""An organization's subscription, the plan in force and its seats (admins and
owners)."""

from core.application.billing import SubscriptionView
from core.application.queries.get_org_subscription import OrgSubscriptionView
from functions.runtime import api

NOT_ADMIN = "`forbidden`: only the organization's admins and owners"


class OrgSubscriptionOut(api.SubscriptionOut):
    # Members now, and the most the plan allows (null: no limit).
    seats_used: int
    seat_limit: int | None

    @classmethod
    def of_org(cls, view: OrgSubscriptionView) -> "OrgSubscriptionOut":
        base = api.SubscriptionOut.of(
            SubscriptionView(view.subscription, view.entitlements)
        )
        return cls(
            **base.model_dump(), seats_used=view.seats_used, seat_limit=view.seat_limit
        )


# Authenticate; the organization with the caller's membership (its subscription
# is on it).
@api.endpoint(
    "GET /api/v1/orgs/{org_id}/billing/subscription",
    (*api.p.AUTHENTICATED, api.p.ORGS_READ),
    budget=2,
)
@api.sample(path={"org_id": "org-1"})
@api.problems({403: (NOT_ADMIN, "forbidden")})
@api.problems({404: ("", "organization_not_found")})
def org_billing_subscription(
    org_id: api.Segment, ctx: api.LoggedIn
) -> OrgSubscriptionOut:
    view = ctx.container.get_org_subscription().execute(ctx.user, org_id)
    return OrgSubscriptionOut.of_org(view)
