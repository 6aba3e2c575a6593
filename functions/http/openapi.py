"""GET /openapi.json : the OpenAPI document of the whole API."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from functions.api import openapi_document
from functions.runtime.app import lambda_handler

router = APIRouter()


@router.get("/openapi.json", include_in_schema=False)
def openapi() -> JSONResponse:
    document: dict[str, Any] = openapi_document()
    return JSONResponse(document)


handler = lambda_handler(router)
