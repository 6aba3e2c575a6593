"""An admin or owner renames the organization: `{id, name}`."""

from functions.runtime import api

RACED = ("Renamed by someone else meanwhile; try again", "concurrent_update")


class RenameOrganizationIn(api.Body):
    name: str = api.Field(max_length=200)


class RenamedOut(api.BaseModel):
    id: str
    name: str


# Authenticate, read the organization with the caller's membership, one transaction:
# the new name (on the version read) and the audit entry.
@api.endpoint("PATCH /api/v1/orgs/{org_id}", api.p.CHANGE_ORG, budget=3)
@api.who("an admin or owner of the organization")
@api.sample(body={"name": "Acme Europe"})
@api.problems(
    {
        403: api.ORG_ROLE_REFUSED,
        404: api.NOT_A_MEMBER,
        409: RACED,
        422: ("", "invalid_org_name"),
    }
)
def rename_organization(
    org_id: api.Segment, body: RenameOrganizationIn, ctx: api.LoggedIn
) -> RenamedOut:
    renamed = ctx.container.rename_organization().execute(ctx.user, org_id, body.name)
    return RenamedOut(id=renamed.id, name=renamed.name.value)
