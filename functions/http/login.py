"""POST /api/v1/account/login : open a session and set the session cookie."""

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from functions.runtime.app import lambda_handler
from functions.runtime.auth import (
    ClientAddress,
    ContainerDep,
    OptionalAuth,
    set_session_cookie,
)
from functions.runtime.problems import problems, session_cookie_header

router = APIRouter(tags=["account"])


class LogInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


@router.post(
    "/api/v1/account/login",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "Logged in", "headers": session_cookie_header()},
        **problems(
            (401, "Wrong username or password"),
            (403, "Logged in already, or the account is deactivated"),
            413,
            415,
            422,
            429,
            503,
        ),
    },
)
def log_in(
    body: LogInIn,
    response: Response,
    container: ContainerDep,
    auth: OptionalAuth,
    client: ClientAddress,
) -> None:
    logged_in = container.log_in().execute(
        body.username, body.password, auth.user if auth else None, client
    )
    set_session_cookie(response, logged_in.token, container)


handler = lambda_handler(router)
