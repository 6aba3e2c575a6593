"""An admin creates a user; only a super admin creates admins."""

from typing import Literal

from functions.runtime import api

PW = "sam-lee-first-password"
INVALID = ("invalid_username", "invalid_email", "invalid_password", "invalid_role")
FORBIDDEN = "Not an admin, or an admin creating an admin (only a super admin may)"


class CreateUserIn(api.Body):
    username: str = api.Field(max_length=64)
    email: str = api.Field(max_length=320)
    password: str = api.Field(max_length=1024)
    role: Literal["user", "admin"] = "user"


@api.endpoint(
    "POST /api/v1/users", (*api.p.MANAGE_USERS, api.p.PASSWORDS), budget=2, status=201
)
@api.who("an admin")
@api.sample(body={"username": "sam.lee", "email": "sam@example.com", "password": PW})
@api.problems({403: FORBIDDEN, 409: api.TAKEN, 422: ("", *INVALID)})
def create_user(body: CreateUserIn, ctx: api.LoggedIn) -> api.UserDetail:
    new = (body.username, body.email, body.password, body.role)
    return api.UserDetail.of(ctx.container.create_user().execute(ctx.user, *new))
