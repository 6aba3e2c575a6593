"""A super admin makes a user an admin."""

from functions.runtime import api


# Authenticate, the user, save them, the platform audit entry.
@api.endpoint("PATCH /api/v1/users/{username}/grant-admin", api.p.AUDITED, budget=5)
@api.who("a super admin")
@api.problems(api.OVER_AN_ADMIN)
def grant_admin(username: api.Segment, ctx: api.LoggedIn) -> None:
    ctx.container.grant_admin().execute(ctx.user, username)
