"""A Stripe Customer Portal session for the organization's billing (admins and
owners): `{url}`; 409 before its first checkout."""

from functions.runtime import api

NO_ACCOUNT = ("No billing account yet: check out first", "no_billing_account")


# Authenticate; the organization with the caller's membership (its customer is
# on it). At Stripe: the portal session.
@api.endpoint(
    "POST /api/v1/orgs/{org_id}/billing/portal",
    (*api.p.READ_ORG, api.p.STRIPE_API),
    budget=2,
)
@api.who("an admin or owner of the organization")
@api.sample(path={"org_id": "org-1"})
@api.problems({403: api.ORG_ROLE_REFUSED, 404: api.NOT_A_MEMBER, 409: NO_ACCOUNT})
def org_billing_portal(org_id: api.Segment, ctx: api.LoggedIn) -> api.RedirectUrl:
    url = ctx.container.open_org_billing_portal().execute(ctx.user, org_id)
    return api.RedirectUrl(url=url)
