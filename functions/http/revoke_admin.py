"""A super admin makes an admin a user."""

from functions.permissions import MANAGE_USERS
from functions.runtime.endpoint import ContainerDep, CurrentAuth, PathSegment, endpoint
from functions.runtime.problems import OVER_AN_ADMIN


@endpoint(
    "PATCH /api/v1/users/{username}/revoke-admin",
    MANAGE_USERS,
    who="a super admin",
    budget=4,
    problems=OVER_AN_ADMIN,
)
def revoke_admin(
    username: PathSegment, container: ContainerDep, auth: CurrentAuth
) -> None:
    container.revoke_admin().execute(auth.user, username)
