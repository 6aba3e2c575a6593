"""An admin creates a user; only a super admin creates admins."""

from typing import Literal

from pydantic import Field

from functions.permissions import MANAGE_USERS, PASSWORDS
from functions.runtime.endpoint import ContainerDep, CurrentAuth, endpoint
from functions.runtime.problems import TAKEN, answer
from functions.runtime.schemas import Body, UserDetail

PW = "sam-lee-first-password"
INVALID = ("invalid_username", "invalid_email", "invalid_password", "invalid_role")
FORBIDDEN = "Not an admin, or an admin creating an admin (only a super admin may)"


class CreateUserIn(Body):
    username: str = Field(max_length=64)
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    role: Literal["user", "admin"] = "user"


@endpoint(
    "POST /api/v1/users",
    (*MANAGE_USERS, PASSWORDS),
    who="an admin",
    status=201,
    budget=2,
    sample={
        "body": {"username": "sam.lee", "email": "sam@example.com", "password": PW}
    },
    problems={403: FORBIDDEN, 409: TAKEN, 422: answer("", *INVALID)},
)
def create_user(
    body: CreateUserIn, container: ContainerDep, auth: CurrentAuth
) -> UserDetail:
    user = container.create_user().execute(
        auth.user, body.username, body.email, body.password, body.role
    )
    return UserDetail.of(user)
