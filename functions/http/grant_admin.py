"""A super admin makes a user an admin."""

from functions.runtime import api


@api.endpoint(
    "PATCH /api/v1/users/{username}/grant-admin", api.p.MANAGE_USERS, budget=4
)
@api.who("a super admin")
@api.problems(api.OVER_AN_ADMIN)
def grant_admin(username: api.Segment, ctx: api.LoggedIn) -> None:
    ctx.container.grant_admin().execute(ctx.user, username)
