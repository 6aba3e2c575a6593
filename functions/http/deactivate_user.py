"""PATCH /api/v1/users/{username}/deactivate : an admin deactivates a subordinate
and ends all their sessions."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems

router = APIRouter(tags=["users"])


@router.patch(
    "/api/v1/users/{username}/deactivate",
    status_code=204,
    response_class=Response,
    responses=problems(401, 403, 404, 409, 503),
)
def deactivate_user(
    username: Annotated[str, Path(max_length=64)],
    container: ContainerDep,
    auth: CurrentAuth,
) -> None:
    container.deactivate_user().execute(auth.user, username)


handler = lambda_handler(router)
