"""A redirect to the API docs."""

from fastapi.responses import RedirectResponse

from functions.runtime import api


@api.endpoint("GET /", status=307, budget=0, in_docs=False)
def root() -> RedirectResponse:
    return RedirectResponse("/docs", status_code=307)
