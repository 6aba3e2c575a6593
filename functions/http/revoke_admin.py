"""PATCH /api/v1/users/{username}/revoke-admin : a super admin makes an admin a user."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems

router = APIRouter(tags=["users"])


@router.patch(
    "/api/v1/users/{username}/revoke-admin",
    status_code=204,
    response_class=Response,
    responses=problems(
        401,
        (403, "Not a super admin, or the user is a super admin"),
        404,
        (409, "The user changed meanwhile; try again"),
        413,
        415,
        (422, "The username in the path is too long"),
        503,
    ),
)
def revoke_admin(
    username: Annotated[str, Path(max_length=64)],
    container: ContainerDep,
    auth: CurrentAuth,
) -> None:
    container.revoke_admin().execute(auth.user, username)


handler = lambda_handler(router)
