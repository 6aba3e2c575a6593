"""PATCH /api/v1/users/{username}/password : set one's own or a subordinate's."""

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems

router = APIRouter(tags=["users"])


class ChangePasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(max_length=1024)
    current_password: str | None = Field(default=None, max_length=1024)


@router.patch(
    "/api/v1/users/{username}/password",
    status_code=204,
    response_class=Response,
    responses=problems(
        401,
        (403, "Not allowed to set this user's password, or the current one is wrong"),
        404,
        (409, "The user changed meanwhile; try again"),
        413,
        415,
        422,
        (429, "Too many wrong current passwords; try again later"),
        503,
    ),
)
def change_password(
    username: Annotated[str, Path(max_length=64)],
    body: ChangePasswordIn,
    container: ContainerDep,
    auth: CurrentAuth,
) -> None:
    container.change_password().execute(
        auth.user, auth.session, username, body.password, body.current_password
    )


handler = lambda_handler(router)
