"""A super admin makes an admin a user."""

from functions.runtime import api


# Authenticate, the user, save them, the platform audit entry.
@api.endpoint("PATCH /api/v1/users/{username}/revoke-admin", api.p.AUDITED, budget=5)
@api.who("a super admin")
@api.problems(api.OVER_AN_ADMIN)
def revoke_admin(username: api.Segment, ctx: api.LoggedIn) -> None:
    ctx.container.revoke_admin().execute(ctx.user, username)
