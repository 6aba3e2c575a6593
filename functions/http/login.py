"""Anyone not logged in opens a session: sets the `access_token` cookie."""

from functions.runtime import api

REFUSED = ("already_authenticated", "account_inactive")
COOKIE = {"description": "Logged in", "headers": api.session_cookie_header()}


class LogInIn(api.Body):
    username: str = api.Field(max_length=64)
    password: str = api.Field(max_length=1024)


# Log-in's permissions match an authenticated route's (it writes the session), and
# it checks a password (the pepper). The client's and the username's attempts are
# reserved together (one transaction of two conditional updates, before the password
# is checked), the user found (two reads), the session stored with the counters
# settled (one transaction).
@api.endpoint(
    "POST /api/v1/account/login",
    (*api.p.AUTHENTICATED, api.p.PASSWORDS),
    budget=4,
    counts={204: "LogIns", 401: "LogInsFailed", 429: "LogInsLocked"},
    sample={"body": {"username": "jane.doe", "password": "correct-horse-battery"}},
    problems={
        401: ("Wrong username or password", "invalid_credentials"),
        403: ("Logged in already, or the account is deactivated", *REFUSED),
        429: "",
    },
    responses={204: COOKIE},
)
def log_in(
    body: LogInIn,
    response: api.Response,
    container: api.Container,
    auth: api.MaybeAuth,
    client: api.Client,
) -> None:
    user = auth.user if auth else None
    logged_in = container.log_in().execute(body.username, body.password, user, client)
    api.set_session_cookie(response, logged_in.token, container)
