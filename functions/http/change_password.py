"""Set one's own password, or a subordinate's as their admin."""

from pydantic import Field

from functions.permissions import MANAGE_USERS
from functions.runtime.endpoint import ContainerDep, CurrentAuth, PathSegment, endpoint
from functions.runtime.problems import USER_CHANGED
from functions.runtime.schemas import Body

FORBIDDEN = "Not allowed to set this user's password, or the current one is wrong"


class ChangePasswordIn(Body):
    password: str = Field(max_length=1024)
    current_password: str | None = Field(default=None, max_length=1024)


@endpoint(
    "PATCH /api/v1/users/{username}/password",
    MANAGE_USERS,
    budget=5,
    sample={"body": {"password": "staple-battery-horse", "current_password": "old"}},
    problems={403: FORBIDDEN, 404: "", 409: USER_CHANGED},
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
