"""An admin over a subordinate deactivates them and ends all their sessions."""

from functions.permissions import MANAGE_USERS, SESSIONS_BY_USER
from functions.runtime.endpoint import ContainerDep, CurrentAuth, PathSegment, endpoint
from functions.runtime.problems import OVER_A_SUBORDINATE


@endpoint(
    "PATCH /api/v1/users/{username}/deactivate",
    (*MANAGE_USERS, SESSIONS_BY_USER),
    who="an admin over the user",
    budget=6,
    problems=OVER_A_SUBORDINATE,
)
def deactivate_user(
    username: PathSegment, container: ContainerDep, auth: CurrentAuth
) -> None:
    container.deactivate_user().execute(auth.user, username)
