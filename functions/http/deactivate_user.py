"""An admin over a subordinate deactivates them and ends all their sessions."""

from functions.runtime import api

GRANTS = (*api.p.AUDITED, api.p.SESSIONS_BY_USER)


@api.endpoint("PATCH /api/v1/users/{username}/deactivate", GRANTS, budget=7)
@api.who("an admin over the user")
@api.problems(api.OVER_A_SUBORDINATE)
def deactivate_user(username: api.Segment, ctx: api.LoggedIn) -> None:
    ctx.container.deactivate_user().execute(ctx.user, username)
