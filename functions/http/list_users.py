"""GET /api/v1/users : an admin reads one page of users."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from core.application.ports import SortOrder, UserSort
from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems
from functions.runtime.schemas import UserDetail

router = APIRouter(tags=["users"])


class UsersPageOut(BaseModel):
    items: list[UserDetail]
    next_cursor: str | None


@router.get(
    "/api/v1/users",
    response_model=UsersPageOut,
    responses=problems(401, (403, "Not an admin"), 413, 422, 503),
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
    return UsersPageOut(
        items=[UserDetail.of(user) for user in page.items],
        next_cursor=page.next_cursor,
    )


handler = lambda_handler(router)
