"""The local API: every catalog endpoint's router in one FastAPI app, with the docs.

This same app is the source of the OpenAPI document.
"""

from __future__ import annotations

from importlib import import_module

from fastapi import APIRouter, FastAPI

from functions.catalog import ENDPOINTS
from functions.runtime.app import create_app


def routers() -> list[APIRouter]:
    return [import_module(endpoint.module).router for endpoint in ENDPOINTS]


def build_app() -> FastAPI:
    return create_app(*routers(), docs=True)
