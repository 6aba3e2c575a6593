"""A verified user creates an organization and becomes its first owner: `{id, name,
role}`."""

from functions.runtime import api

UNVERIFIED = ("The email address is not verified yet", "email_not_verified")


class CreateOrganizationIn(api.Body):
    name: str = api.Field(max_length=200)


# Authenticate; one transaction: the organization, its owner, the audit entry.
@api.endpoint(
    "POST /api/v1/orgs", (*api.p.AUTHENTICATED, api.p.ORGS_WRITE), budget=2, status=201
)
@api.who("a verified user")
@api.sample(body={"name": "Acme"})
@api.problems({403: UNVERIFIED, 422: ("", "invalid_org_name")})
def create_organization(body: CreateOrganizationIn, ctx: api.LoggedIn) -> api.OrgOut:
    made = ctx.container.create_organization().execute(ctx.user, body.name)
    return api.OrgOut.of(made)
