"""GET /docs : Swagger UI over the document at /openapi.json."""

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from functions.runtime.app import API_TITLE, lambda_handler

router = APIRouter()


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{API_TITLE} API")


handler = lambda_handler(router)
