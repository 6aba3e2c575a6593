"""An admin reads one page of users: `{items, next_cursor}` (`limit`, `cursor`,
`sort`, `order`)."""

from core.application.ports import SortOrder, UserSort
from functions.runtime import api


class UsersPageOut(api.BaseModel):
    items: list[api.UserDetail]
    next_cursor: str | None


# Authenticate; one Query per shard of the users index (4 by default).
@api.endpoint("GET /api/v1/users", (*api.p.AUTHENTICATED, api.p.USERS_LIST), budget=5)
@api.who("an admin")
@api.sample(query={"limit": "20", "sort": "created_at", "order": "desc"})
@api.problems({403: "Not an admin", 422: api.PAGING})
def list_users(
    ctx: api.LoggedIn,
    limit: int = api.Query(default=20, ge=1, le=100),
    cursor: str | None = api.Query(default=None, max_length=2048),
    sort: UserSort = UserSort.CREATED_AT,
    order: SortOrder = SortOrder.DESC,
) -> UsersPageOut:
    page = ctx.container.list_users().execute(ctx.user, sort, order, limit, cursor)
    items = [api.UserDetail.of(user) for user in page.items]
    return UsersPageOut(items=items, next_cursor=page.next_cursor)
