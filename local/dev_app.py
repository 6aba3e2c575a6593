"""The local API: the whole app that the deployed functions split between them.

Docs and the OpenAPI document are catalog endpoints like any other, so the local
server and the deployed API serve the same ``/docs`` and ``/openapi.json``.
"""

from __future__ import annotations

from fastapi import FastAPI

from functions.api import build_api


def build_app() -> FastAPI:
    return build_api()
