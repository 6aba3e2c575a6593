"""The local API: the whole app that the deployed functions split between them,
plus the dev front end's pages (``local.frontend``), which only the local stack has.

Docs and the OpenAPI document are catalog endpoints like any other, so the local
server and the deployed API serve the same ``/docs`` and ``/openapi.json``.
"""

from __future__ import annotations

from fastapi import FastAPI

from functions.api import build_api
from local import frontend


def build_app() -> FastAPI:
    app = build_api()
    app.include_router(frontend.router)
    return app
