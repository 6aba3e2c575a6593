"""Anyone not logged in opens a session: sets the `access_token` cookie."""

from functions.runtime import api

WRONG = ("Wrong username or password", "invalid_credentials")
REFUSED = "Logged in already, or the account is deactivated"
COOKIE = {"description": "Logged in", "headers": api.session_cookie_header()}


class LogInIn(api.Body):
    username: str = api.Field(max_length=64)
    password: str = api.Field(max_length=1024)


# Permissions as an authenticated route's (it writes the session), and the pepper.
# Reserve the client's and the username's attempts (one transaction, before the
# password is checked), find the user (two reads), store the session and settle the
# counters (one transaction).
@api.endpoint(
    "POST /api/v1/account/login", (*api.p.AUTHENTICATED, api.p.PASSWORDS), budget=4
)
@api.counts({204: "LogIns", 401: "LogInsFailed", 429: "LogInsLocked"})
@api.sample(body={"username": "jane.doe", "password": "correct-horse-battery"})
@api.responses({204: COOKIE})
@api.problems({401: WRONG, 403: (REFUSED, "already_authenticated", "account_inactive")})
@api.problems({429: ""})
def log_in(body: LogInIn, response: api.Response, ctx: api.MaybeLoggedIn) -> None:
    attempt = (body.username, body.password, ctx.user, ctx.client)
    logged_in = ctx.container.log_in().execute(*attempt)
    api.set_session_cookie(response, logged_in.token, ctx.container)
