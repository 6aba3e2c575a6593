"""A super admin makes a user an admin."""

from functions.permissions import MANAGE_USERS
from functions.runtime.endpoint import ContainerDep, CurrentAuth, PathSegment, endpoint
from functions.runtime.problems import OVER_AN_ADMIN


@endpoint(
    "PATCH /api/v1/users/{username}/grant-admin",
    MANAGE_USERS,
    who="a super admin",
    budget=4,
    problems=OVER_AN_ADMIN,
)
def grant_admin(
    username: PathSegment, container: ContainerDep, auth: CurrentAuth
) -> None:
    container.grant_admin().execute(auth.user, username)
