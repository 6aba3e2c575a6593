"""Cancel the organization's subscription at the end of the period paid for
(admins and owners): the subscription, whose plan and seats stay until then."""

from functions.runtime import api


# Authenticate; the organization with the caller's membership; one transaction:
# what Stripe answered and the audit entry. At Stripe: the update.
@api.endpoint(
    "POST /api/v1/orgs/{org_id}/billing/subscription/cancel",
    (*api.p.CHANGE_ORG, api.p.STRIPE_API),
    budget=3,
)
@api.who("an admin or owner of the organization")
@api.sample(path={"org_id": "org-1"})
@api.problems(
    {403: api.ORG_ROLE_REFUSED, 404: api.NOT_A_MEMBER, 409: api.NO_SUBSCRIPTION}
)
def org_billing_cancel(
    org_id: api.Segment, ctx: api.LoggedIn
) -> api.OrgSubscriptionOut:
    view = ctx.container.cancel_org_subscription().execute(ctx.user, org_id)
    return api.OrgSubscriptionOut.of_org(view)
