"""The docs pages work with no internet: every file they load is the API's own."""

from __future__ import annotations

import base64
import re
from importlib import import_module
from urllib.parse import parse_qsl, urlsplit

import pytest

from functions.catalog import BY_NAME
from local.harness import FakeLambdaContext, Reply, http_api_event
from tests.functions.conftest import assert_problem

PAGES = ("docs", "redoc")
# What a page loads: stylesheets, icons and scripts.
_LOADED = re.compile(r"""(?:href|src)=["']([^"']+)["']""")
TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def call(name: str, url: str | None = None) -> Reply:
    parts = urlsplit(url or BY_NAME[name].path)
    event = http_api_event(
        BY_NAME[name], parts.path, query=dict(parse_qsl(parts.query))
    )
    handler = import_module(BY_NAME[name].module).handler
    return Reply(handler(event, FakeLambdaContext()))


@pytest.mark.parametrize("page", PAGES)
def test_a_docs_page_names_no_address_outside_the_api(page: str) -> None:
    reply = call(page)

    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert "http://" not in reply.text
    assert "https://" not in reply.text
    assert "/openapi.json" in reply.text


@pytest.mark.parametrize("page", PAGES)
def test_every_file_a_docs_page_loads_is_served_with_its_type(page: str) -> None:
    loaded = _LOADED.findall(call(page).text)

    assert any(url.split("?")[0].endswith(".js") for url in loaded)
    for url in loaded:
        assert url.startswith("/docs/assets/"), url
        reply = call("docs_assets", url)
        assert reply.status == 200, url
        suffix = "." + urlsplit(url).path.rsplit(".", 1)[-1]
        assert reply.headers["content-type"].split(";")[0] == TYPES[suffix], url
        assert "max-age=" in reply.headers["cache-control"]
        body = (
            base64.b64decode(reply.raw["body"])
            if reply.raw["isBase64Encoded"]
            else reply.text.encode()
        )
        assert len(body) > 1000, url


def test_swagger_ui_gets_its_script_as_text_not_base64() -> None:
    reply = call("docs_assets", "/docs/assets/swagger-ui-bundle.js")

    assert reply.raw["isBase64Encoded"] is False
    assert "SwaggerUIBundle" in reply.text


@pytest.mark.parametrize("name", ["nothing.js", "..", "core.py", "static"])
def test_a_file_the_pages_do_not_use_is_not_found(name: str) -> None:
    assert_problem(call("docs_assets", f"/docs/assets/{name}"), 404, "not_found")
