"""A member reads the organization's members and their roles, a page at a time:
`{items, next_cursor}` (`limit`, `cursor`)."""

from functions.runtime import api


class MembersPageOut(api.BaseModel):
    items: list[api.MemberOut]
    next_cursor: str | None


# Authenticate, the organization with the caller's membership, one Query.
@api.endpoint("GET /api/v1/orgs/{org_id}/members", api.p.READ_ORG, budget=3)
@api.who("a member")
@api.sample(query={"limit": "20"})
@api.problems({404: api.NOT_A_MEMBER, 422: api.PAGING})
def list_members(
    org_id: api.Segment,
    ctx: api.LoggedIn,
    limit: int = api.Query(default=20, ge=1, le=100),
    cursor: str | None = api.Query(default=None, max_length=2048),
) -> MembersPageOut:
    page = ctx.container.list_members().execute(ctx.user, org_id, limit, cursor)
    items = [api.MemberOut.of(member) for member in page.items]
    return MembersPageOut(items=items, next_cursor=page.next_cursor)
