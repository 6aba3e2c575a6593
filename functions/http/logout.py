"""End the session and clear the cookie."""

from functions.runtime import api

ENDED = "Logged out: the session is ended and the cookie cleared"


@api.endpoint("POST /api/v1/account/logout", api.p.AUTHENTICATED, budget=2)
@api.responses({204: {"description": ENDED, "headers": api.session_cookie_header()}})
def log_out(response: api.Response, ctx: api.LoggedIn) -> None:
    ctx.container.log_out().execute(ctx.session)
    api.clear_session_cookie(response, ctx.container)
