"""The organizations the caller belongs to, with their role in each, a page at a
time: `{items, next_cursor}` (`limit`, `cursor`)."""

from functions.runtime import api

GRANTS = (*api.p.READ_ORG, api.p.ORGS_BY_MEMBER)


class OrgsPageOut(api.BaseModel):
    items: list[api.OrgOut]
    next_cursor: str | None


# Authenticate; one Query of the by-member index, one BatchGet of the organizations.
@api.endpoint("GET /api/v1/orgs", GRANTS, budget=3)
@api.sample(query={"limit": "20"})
@api.problems({422: api.PAGING})
def list_organizations(
    ctx: api.LoggedIn,
    limit: int = api.Query(default=20, ge=1, le=100),
    cursor: str | None = api.Query(default=None, max_length=2048),
) -> OrgsPageOut:
    page = ctx.container.list_my_organizations().execute(ctx.user, limit, cursor)
    items = [api.OrgOut.of(mine) for mine in page.items]
    return OrgsPageOut(items=items, next_cursor=page.next_cursor)
