"""A redirect to the API docs."""

from functions.runtime import api


@api.endpoint("GET /", status=307, budget=0, in_docs=False)
def root() -> api.RedirectResponse:
    return api.RedirectResponse("/docs", status_code=307)
