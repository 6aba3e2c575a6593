"""Set one's own password, or a subordinate's as their admin."""

from pydantic import Field

from functions.permissions import AUTHENTICATED, USERS_WRITE
from functions.runtime.endpoint import ContainerDep, CurrentAuth, PathSegment, endpoint
from functions.runtime.schemas import Body


class ChangePasswordIn(Body):
    password: str = Field(max_length=1024)
    current_password: str | None = Field(default=None, max_length=1024)


@endpoint(
    "PATCH /api/v1/users/{username}/password",
    (*AUTHENTICATED, USERS_WRITE),
    status=204,
    budget=5,
    sample={
        "path": {"username": "jane.doe"},
        "body": {
            "password": "staple-battery-horse",
            "current_password": "old-horse",
        },
    },
    problems=(
        (403, "Not allowed to set this user's password, or the current one is wrong"),
        404,
        (409, "The user changed meanwhile; try again"),
    ),
)
def change_password(
    username: PathSegment,
    body: ChangePasswordIn,
    container: ContainerDep,
    auth: CurrentAuth,
) -> None:
    container.change_password().execute(
        auth.user, auth.session, username, body.password, body.current_password
    )
