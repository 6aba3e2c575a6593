"""Swagger UI over the document at /openapi.json, with no CDN: its files are the
API's own (/docs/assets)."""

from functions.runtime import api
from functions.runtime.docs import swagger_ui_page


# A coroutine: nothing blocks, so no worker thread (see docs_assets).
@api.endpoint("GET /docs", budget=0, in_docs=False)
async def docs() -> api.HTMLResponse:
    return swagger_ui_page()
