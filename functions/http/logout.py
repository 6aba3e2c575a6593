"""End the session and clear the cookie."""

from fastapi import Response

from functions.permissions import AUTHENTICATED
from functions.runtime.auth import clear_session_cookie
from functions.runtime.endpoint import ContainerDep, CurrentAuth, endpoint
from functions.runtime.problems import session_cookie_header

ENDED = "Logged out: the session is ended and the cookie cleared"
SUCCESS = {204: {"description": ENDED, "headers": session_cookie_header()}}


@endpoint("POST /api/v1/account/logout", AUTHENTICATED, budget=2, responses=SUCCESS)
def log_out(response: Response, container: ContainerDep, auth: CurrentAuth) -> None:
    container.log_out().execute(auth.session)
    clear_session_cookie(response, container)
