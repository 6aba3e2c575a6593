"""Anyone not logged in opens a session: sets the `access_token` cookie."""

from fastapi import Response
from pydantic import Field

from functions.permissions import AUTHENTICATED, PASSWORDS
from functions.runtime.auth import set_session_cookie
from functions.runtime.endpoint import (
    ClientAddress,
    ContainerDep,
    OptionalAuth,
    endpoint,
)
from functions.runtime.problems import answer, session_cookie_header
from functions.runtime.schemas import Body

WRONG = answer("Wrong username or password", "invalid_credentials")
REFUSED = answer(
    "Logged in already, or the account is deactivated",
    *("already_authenticated", "account_inactive"),
)


class LogInIn(Body):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


# Log-in's permissions match an authenticated route's (it writes the session), and
# it checks a password (the pepper). The client's and the username's attempts are
# reserved together (one transaction of two conditional updates, before the password
# is checked), the user found (two reads), the session stored with the counters
# settled (one transaction).
@endpoint(
    "POST /api/v1/account/login",
    (*AUTHENTICATED, PASSWORDS),
    budget=4,
    counts={204: "LogIns", 401: "LogInsFailed", 429: "LogInsLocked"},
    sample={"body": {"username": "jane.doe", "password": "correct-horse-battery"}},
    problems={401: WRONG, 403: REFUSED, 429: ""},
    responses={204: {"description": "Logged in", "headers": session_cookie_header()}},
)
def log_in(
    body: LogInIn,
    response: Response,
    container: ContainerDep,
    auth: OptionalAuth,
    client: ClientAddress,
) -> None:
    logged_in = container.log_in().execute(
        body.username, body.password, auth.user if auth else None, client
    )
    set_session_cookie(response, logged_in.token, container)
