"""Swagger UI over the document at /openapi.json."""

from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from functions.runtime.app import API_TITLE
from functions.runtime.endpoint import endpoint


@endpoint("GET /docs", budget=0, in_docs=False)
def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{API_TITLE} API")
