"""POST /api/v1/account/verify-email : the token from a verification email marks
the address verified."""

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep
from functions.runtime.problems import problems

router = APIRouter(tags=["account"])


class VerifyEmailIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=256)


@router.post(
    "/api/v1/account/verify-email",
    status_code=204,
    response_class=Response,
    responses=problems(
        (400, "The token is unknown, used or expired: `invalid_token`"),
        (409, "The account changed meanwhile; ask for a new link"),
        413,
        415,
        422,
        503,
    ),
)
def verify_email(body: VerifyEmailIn, container: ContainerDep) -> None:
    container.verify_email().execute(body.token)


handler = lambda_handler(router)
