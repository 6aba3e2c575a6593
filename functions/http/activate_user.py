"""An admin over a subordinate lets them log in again."""

from functions.permissions import MANAGE_USERS
from functions.runtime.endpoint import ContainerDep, CurrentAuth, PathSegment, endpoint
from functions.runtime.problems import OVER_A_SUBORDINATE


@endpoint(
    "PATCH /api/v1/users/{username}/activate",
    MANAGE_USERS,
    who="an admin over the user",
    budget=4,
    problems=OVER_A_SUBORDINATE,
)
def activate_user(
    username: PathSegment, container: ContainerDep, auth: CurrentAuth
) -> None:
    container.activate_user().execute(auth.user, username)
