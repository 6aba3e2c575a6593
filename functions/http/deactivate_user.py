"""An admin over a subordinate deactivates them and ends all their sessions."""

from functions.permissions import AUTHENTICATED, USERS_WRITE
from functions.runtime.endpoint import ContainerDep, CurrentAuth, PathSegment, endpoint
from functions.runtime.problems import over_a_user


@endpoint(
    "PATCH /api/v1/users/{username}/deactivate",
    (*AUTHENTICATED, USERS_WRITE),
    status=204,
    budget=6,
    sample={"path": {"username": "jane.doe"}},
    problems=over_a_user("Not an admin over this user, or oneself or a super admin"),
)
def deactivate_user(
    username: PathSegment, container: ContainerDep, auth: CurrentAuth
) -> None:
    container.deactivate_user().execute(auth.user, username)
