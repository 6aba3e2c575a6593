"""GET / : send a visitor to the API docs."""

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from functions.runtime.app import lambda_handler

router = APIRouter()


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/docs", status_code=307)


handler = lambda_handler(router)
