"""An admin over a subordinate lets them log in again."""

from functions.permissions import AUTHENTICATED, USERS_WRITE
from functions.runtime.endpoint import ContainerDep, CurrentAuth, PathSegment, endpoint
from functions.runtime.problems import over_a_user


@endpoint(
    "PATCH /api/v1/users/{username}/activate",
    (*AUTHENTICATED, USERS_WRITE),
    status=204,
    budget=4,
    sample={"path": {"username": "jane.doe"}},
    problems=over_a_user("Not an admin over this user, or oneself or a super admin"),
)
def activate_user(
    username: PathSegment, container: ContainerDep, auth: CurrentAuth
) -> None:
    container.activate_user().execute(auth.user, username)
