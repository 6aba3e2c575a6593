"""A super admin makes an admin a user."""

from functions.permissions import AUTHENTICATED, USERS_WRITE
from functions.runtime.endpoint import ContainerDep, CurrentAuth, PathSegment, endpoint
from functions.runtime.problems import over_a_user


@endpoint(
    "PATCH /api/v1/users/{username}/revoke-admin",
    (*AUTHENTICATED, USERS_WRITE),
    status=204,
    budget=4,
    sample={"path": {"username": "jane.doe"}},
    problems=over_a_user("Not a super admin, or the user is a super admin"),
)
def revoke_admin(
    username: PathSegment, container: ContainerDep, auth: CurrentAuth
) -> None:
    container.revoke_admin().execute(auth.user, username)
