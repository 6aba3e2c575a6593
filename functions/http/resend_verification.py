"""POST /api/v1/account/verify-email/resend : a logged-in user with an unverified
email gets a new verification email."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ClientAddress, ContainerDep, CurrentAuth
from functions.runtime.problems import problems

router = APIRouter(tags=["account"])


class ResendOut(BaseModel):
    queued: bool = Field(
        description="Whether a new email was queued: false when the email is "
        "verified already"
    )


@router.post(
    "/api/v1/account/verify-email/resend",
    status_code=202,
    response_model=ResendOut,
    responses=problems(401, 413, 415, 429, 503),
)
def resend_verification(
    container: ContainerDep, auth: CurrentAuth, client: ClientAddress
) -> ResendOut:
    return ResendOut(queued=container.resend_verification().execute(auth.user, client))


handler = lambda_handler(router)
