"""The whole API as one app: every catalog endpoint's router.

The local dev server serves this app, and the deployed ``openapi`` function serves
its document, so the API documents itself the same way in both places.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module
from typing import Any

from fastapi import APIRouter, FastAPI

from functions.catalog import ENDPOINTS
from functions.runtime.app import create_app


def routers() -> list[APIRouter]:
    return [import_module(endpoint.module).router for endpoint in ENDPOINTS]


def build_api() -> FastAPI:
    return create_app(*routers())


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """Built on first use: importing every endpoint module is the docs function's
    cost alone, paid by its first request, not by its cold import."""
    return build_api().openapi()
