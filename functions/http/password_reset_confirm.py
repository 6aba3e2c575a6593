"""POST /api/v1/account/password-reset/confirm : the token from a password reset
email sets a new password and ends every session of the account."""

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep
from functions.runtime.problems import problems

router = APIRouter(tags=["account"])


class PasswordResetConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=256)
    password: str = Field(max_length=1024)


@router.post(
    "/api/v1/account/password-reset/confirm",
    status_code=204,
    response_class=Response,
    responses=problems(
        (400, "The token is unknown, used or expired: `invalid_token`"),
        (403, "The account is deactivated"),
        (409, "The account changed meanwhile; ask for a new link"),
        413,
        415,
        (
            422,
            "Invalid input, or a password the policy refuses (the token stays usable)",
        ),
        503,
    ),
)
def password_reset_confirm(
    body: PasswordResetConfirmIn, container: ContainerDep
) -> None:
    container.reset_password().execute(body.token, body.password)


handler = lambda_handler(router)
