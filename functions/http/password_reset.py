"""POST /api/v1/account/password-reset : ask for a password reset link by email.

The answer is the same, in status, body and the work behind it, whether or not an
account has that email: it cannot be used to find out who is registered.
"""

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ClientAddress, ContainerDep
from functions.runtime.problems import problems

router = APIRouter(tags=["account"])

ACCEPTED_DETAIL = (
    "If an active account has this email, a link to reset its password is on its way."
)


class PasswordResetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)


class PasswordResetAccepted(BaseModel):
    detail: str


@router.post(
    "/api/v1/account/password-reset",
    status_code=202,
    response_model=PasswordResetAccepted,
    responses=problems(413, 415, 422, 429, 503),
)
def password_reset(
    body: PasswordResetIn, container: ContainerDep, client: ClientAddress
) -> PasswordResetAccepted:
    container.request_password_reset().execute(body.email, client)
    return PasswordResetAccepted(detail=ACCEPTED_DETAIL)


handler = lambda_handler(router)
