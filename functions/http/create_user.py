"""POST /api/v1/users : an admin creates a user (a super admin, also an admin)."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems
from functions.runtime.schemas import UserDetail

router = APIRouter(tags=["users"])


class CreateUserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64)
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    role: Literal["user", "admin"] = "user"


@router.post(
    "/api/v1/users",
    status_code=201,
    response_model=UserDetail,
    responses=problems(
        401,
        (403, "Not an admin, or an admin creating an admin (only a super admin may)"),
        (409, "The username or the email is taken"),
        413,
        415,
        422,
        503,
    ),
)
def create_user(
    body: CreateUserIn, container: ContainerDep, auth: CurrentAuth
) -> UserDetail:
    user = container.create_user().execute(
        auth.user, body.username, body.email, body.password, body.role
    )
    return UserDetail.of(user)


handler = lambda_handler(router)
