"""The OpenAPI document of the whole API."""

from functions.api import openapi_document
from functions.runtime import api


@api.endpoint("GET /openapi.json", budget=0, in_docs=False)
def openapi() -> api.JSONResponse:
    return api.JSONResponse(openapi_document())
