"""Set one's own password, or a subordinate's as their admin."""

from pydantic import Field

from functions.permissions import MANAGE_USERS, PASSWORDS, SESSIONS_BY_USER
from functions.runtime.endpoint import ContainerDep, CurrentAuth, PathSegment, endpoint
from functions.runtime.problems import USER_CHANGED, answer
from functions.runtime.schemas import Body

FORBIDDEN = "Not allowed to set this user's password, or the current one is wrong"


class ChangePasswordIn(Body):
    password: str = Field(max_length=1024)
    current_password: str | None = Field(default=None, max_length=1024)


# Authenticate; the current password's attempt counted before the check and the
# count cleared after (it is a log-in's guess); save the user, move this session,
# find and delete the others.
@endpoint(
    "PATCH /api/v1/users/{username}/password",
    (*MANAGE_USERS, PASSWORDS, SESSIONS_BY_USER),
    who="the user, or an admin over them",
    budget=7,
    sample={"body": {"password": "staple-battery-horse", "current_password": "old"}},
    problems={
        403: answer(FORBIDDEN, "forbidden", "wrong_password"),
        404: "",
        409: USER_CHANGED,
        422: answer("", "invalid_password", "current_password_required"),
        429: "Too many wrong current passwords; try again later",
    },
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
