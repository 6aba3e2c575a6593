"""An admin over a subordinate lets them log in again."""

from functions.runtime import api


@api.endpoint("PATCH /api/v1/users/{username}/activate", api.p.MANAGE_USERS, budget=4)
@api.who("an admin over the user")
@api.problems(api.OVER_A_SUBORDINATE)
def activate_user(username: api.Segment, ctx: api.LoggedIn) -> None:
    ctx.container.activate_user().execute(ctx.user, username)
