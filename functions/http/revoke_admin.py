"""A super admin makes an admin a user."""

from functions.runtime import api


@api.endpoint(
    "PATCH /api/v1/users/{username}/revoke-admin", api.p.MANAGE_USERS, budget=4
)
@api.who("a super admin")
@api.problems(api.OVER_AN_ADMIN)
def revoke_admin(username: api.Segment, ctx: api.LoggedIn) -> None:
    ctx.container.revoke_admin().execute(ctx.user, username)
