"""POST /api/v1/account/logout : end the session and clear the cookie."""

from fastapi import APIRouter, Response

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth, clear_session_cookie
from functions.runtime.problems import problems

router = APIRouter(tags=["account"])


@router.post(
    "/api/v1/account/logout",
    status_code=204,
    response_class=Response,
    responses=problems(401, 503),
)
def log_out(response: Response, container: ContainerDep, auth: CurrentAuth) -> None:
    container.log_out().execute(auth.session)
    clear_session_cookie(response, container)


handler = lambda_handler(router)
