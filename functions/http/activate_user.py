"""An admin over a subordinate lets them log in again."""

from functions.runtime import api


# Authenticate, the user, save them, the platform audit entry.
@api.endpoint("PATCH /api/v1/users/{username}/activate", api.p.AUDITED, budget=5)
@api.who("an admin over the user")
@api.problems(api.OVER_A_SUBORDINATE)
def activate_user(username: api.Segment, ctx: api.LoggedIn) -> None:
    ctx.container.activate_user().execute(ctx.user, username)
