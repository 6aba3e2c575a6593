"""The app factory: one small FastAPI app per Lambda, or all routers for local use."""

from __future__ import annotations

import os
from collections.abc import Mapping

from fastapi import APIRouter, FastAPI
from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from functions.runtime.errors import install_error_handlers
from functions.runtime.middleware import GuardMiddleware
from functions.runtime.observability import HttpHandler
from functions.runtime.problems import PROBLEM_MEDIA_TYPE, document_problems

API_TITLE = "Strata"
API_VERSION = "0.1.0"
_DEFAULT_MAX_BODY = 64 * 1024


def create_app(*routers: APIRouter) -> FastAPI:
    """An app holding ``routers``. Docs are endpoints of their own (``docs`` and
    ``openapi`` in the catalog), so no app serves FastAPI's built-in ones."""
    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    document_problems(app)
    # Read straight from the environment: building full settings here would move
    # their cost into every cold import.
    max_body = int(os.environ.get("STRATA_MAX_BODY_BYTES", _DEFAULT_MAX_BODY))
    # ``Settings.allowed_origins``, read the same way.
    origins = os.environ.get("STRATA_ALLOWED_ORIGINS", "").split(",")
    app.add_middleware(
        GuardMiddleware,
        max_body_bytes=max_body,
        allowed_origins=frozenset(o for o in origins if o.strip()),
    )
    for router in routers:
        app.include_router(router)
    return app


def lambda_handler(
    router: APIRouter, counts: Mapping[int, str] | None = None
) -> HttpHandler:
    """The Lambda entry point for one endpoint: Mangum around an app of one router,
    in an invocation's logging and metrics scope (``counts``: the business count
    each answer status adds to)."""
    # Problem details are text: without this Mangum would base64-encode every error.
    mangum = Mangum(
        create_app(router),
        lifespan="off",
        text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, PROBLEM_MEDIA_TYPE],
    )
    return HttpHandler(mangum, counts or {})
