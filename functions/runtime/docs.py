"""The docs pages, Swagger UI and ReDoc, and the files they load, served by the API.

FastAPI's own pages load their scripts from a CDN, which leaves a blank page
without internet. Here both pages load them from ``/docs/assets/``, which serves
the copies that the ``fastapi-offline`` package ships (in the Lambda layer and in
the local virtual environment alike). Only its files are read: importing the
package would build a FastAPI app of its own for nothing.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from functions.runtime.app import API_TITLE

OPENAPI_URL = "/openapi.json"
ASSETS_PATH = "/docs/assets"
_PACKAGE = "fastapi_offline"
# The files the pages use, with what they are.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
# The page names the package's version in every asset's URL, so a file may be
# cached for long: a new version is a new URL.
_CACHE = "public, max-age=604800, immutable"
# Swagger UI's default sends the document to an online validator for a badge.
_SWAGGER_PARAMETERS = {"validatorUrl": None, "persistAuthorization": True}


@cache
def _static_dir() -> Path:
    spec = find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{_PACKAGE} is not installed: the docs have no assets")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@cache
def asset_url(name: str) -> str:
    return f"{ASSETS_PATH}/{name}?v={version('fastapi-offline')}"


def swagger_ui_page() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=f"{API_TITLE} API",
        swagger_js_url=asset_url("swagger-ui-bundle.js"),
        swagger_css_url=asset_url("swagger-ui.css"),
        swagger_favicon_url=asset_url("favicon.png"),
        swagger_ui_parameters=_SWAGGER_PARAMETERS,
    )


def redoc_page() -> HTMLResponse:
    return get_redoc_html(
        openapi_url=OPENAPI_URL,
        title=f"{API_TITLE} API",
        redoc_js_url=asset_url("redoc.standalone.js"),
        redoc_favicon_url=asset_url("favicon.png"),
        with_google_fonts=False,
    )


@cache
def _content(name: str) -> tuple[bytes, bool]:
    """The file's bytes, and whether they are gzipped: the Lambda layer ships the
    scripts and styles gzipped (``infra_cdk.build.compress_docs_assets``), a
    virtual environment as the package has them."""
    packed = _static_dir() / f"{name}.gz"
    if packed.is_file():
        return packed.read_bytes(), True
    return (_static_dir() / name).read_bytes(), False


def asset_response(name: str, accept_encoding: str = "") -> Response | None:
    """The asset ``name`` with its type and caching, or None if the pages use no
    such file (never a path: only the names above are read). Gzipped where the file
    is and the client takes gzip."""
    if name not in ASSETS:
        return None
    content, gzipped = _content(name)
    headers = {"Cache-Control": _CACHE, "Vary": "Accept-Encoding"}
    if gzipped and "gzip" in accept_encoding.lower():
        headers["Content-Encoding"] = "gzip"
    elif gzipped:
        content = gzip.decompress(content)
    return Response(content, media_type=ASSETS[name], headers=headers)
