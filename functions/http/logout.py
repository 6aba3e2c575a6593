"""End the session and clear the cookie."""

from functions.runtime import api

ENDED = "Logged out: the session is ended and the cookie cleared"
SUCCESS = {204: {"description": ENDED, "headers": api.session_cookie_header()}}


@api.endpoint(
    "POST /api/v1/account/logout", api.p.AUTHENTICATED, budget=2, responses=SUCCESS
)
def log_out(response: api.Response, ctx: api.LoggedIn) -> None:
    ctx.container.log_out().execute(ctx.session)
    api.clear_session_cookie(response, ctx.container)
