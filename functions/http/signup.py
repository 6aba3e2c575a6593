"""POST /api/v1/account/signup : anyone not logged in creates an account."""

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ClientAddress, ContainerDep, OptionalAuth
from functions.runtime.problems import problems
from functions.runtime.schemas import UserOut

router = APIRouter(tags=["account"])


class SignUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64)
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


@router.post(
    "/api/v1/account/signup",
    status_code=201,
    response_model=UserOut,
    responses=problems(
        (403, "Logged in already: log out first"),
        (409, "The username is taken"),
        413,
        415,
        422,
        429,
        503,
    ),
)
def sign_up(
    body: SignUpIn, container: ContainerDep, auth: OptionalAuth, client: ClientAddress
) -> UserOut:
    user = container.sign_up().execute(
        body.username, body.email, body.password, auth.user if auth else None, client
    )
    return UserOut(id=user.id, username=user.username.value, email=user.email.value)


handler = lambda_handler(router)
