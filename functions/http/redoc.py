"""ReDoc over the document at /openapi.json, with no CDN: its script is the API's
own (/docs/assets)."""

from functions.runtime import api
from functions.runtime.docs import redoc_page


# A coroutine: nothing blocks, so no worker thread (see docs_assets).
@api.endpoint("GET /redoc", budget=0, in_docs=False)
async def redoc() -> api.HTMLResponse:
    return redoc_page()
