"""POST /api/v1/account/logout : end the session and clear the cookie."""

from fastapi import APIRouter, Response

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth, clear_session_cookie
from functions.runtime.problems import problems, session_cookie_header

router = APIRouter(tags=["account"])


@router.post(
    "/api/v1/account/logout",
    status_code=204,
    response_class=Response,
    responses={
        204: {
            "description": "Logged out: the session is ended and the cookie cleared",
            "headers": session_cookie_header(),
        },
        **problems(401, 413, 415, 503),
    },
)
def log_out(response: Response, container: ContainerDep, auth: CurrentAuth) -> None:
    container.log_out().execute(auth.session)
    clear_session_cookie(response, container)


handler = lambda_handler(router)
