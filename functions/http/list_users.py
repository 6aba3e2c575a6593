"""An admin reads one page of users: `{items, next_cursor}` (`limit`, `cursor`,
`sort`, `order`)."""

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel

from core.application.ports import SortOrder, UserSort
from functions.permissions import AUTHENTICATED, USERS_LIST
from functions.runtime.endpoint import ContainerDep, CurrentAuth, endpoint
from functions.runtime.problems import PAGING
from functions.runtime.schemas import UserDetail


class UsersPageOut(BaseModel):
    items: list[UserDetail]
    next_cursor: str | None


@endpoint(
    "GET /api/v1/users",
    (*AUTHENTICATED, USERS_LIST),
    who="an admin",
    # Authenticate; one Query per shard of the users index (4 by default).
    budget=5,
    sample={"query": {"limit": "20", "sort": "created_at", "order": "desc"}},
    problems={403: "Not an admin", 422: PAGING},
)
def list_users(
    container: ContainerDep,
    auth: CurrentAuth,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    sort: UserSort = UserSort.CREATED_AT,
    order: SortOrder = SortOrder.DESC,
) -> UsersPageOut:
    page = container.list_users().execute(auth.user, sort, order, limit, cursor)
    items = [UserDetail.of(user) for user in page.items]
    return UsersPageOut(items=items, next_cursor=page.next_cursor)
