"""The docs pages work with no internet: every file they load is the API's own."""

from __future__ import annotations

import base64
import gzip
import re
import shutil
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from functions.catalog import BY_NAME
from functions.runtime import docs
from infra_cdk import build
from local.harness import FakeLambdaContext, Reply, http_api_event
from tests.functions.conftest import assert_problem

PAGES = ("docs", "redoc")
# What a page loads: stylesheets, icons and scripts.
_LOADED = re.compile(r"""(?:href|src)=["']([^"']+)["']""")
# The assets as the virtual environment has them, as the package ships them.
INSTALLED = docs._static_dir()
TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def call(
    name: str, url: str | None = None, headers: dict[str, str] | None = None
) -> Reply:
    parts = urlsplit(url or BY_NAME[name].path)
    query = dict(parse_qsl(parts.query))
    event = http_api_event(BY_NAME[name], parts.path, query=query, headers=headers)
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


@pytest.fixture
def layer_assets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The docs assets as the Lambda layer ships them: compressed by the build."""
    static = tmp_path / "fastapi_offline" / "static"
    shutil.copytree(INSTALLED, static)
    build.compress_docs_assets(tmp_path)
    monkeypatch.setattr(docs, "_static_dir", lambda: static)
    docs._content.cache_clear()
    yield static
    docs._content.cache_clear()


def test_the_layer_ships_the_scripts_and_styles_gzipped(layer_assets: Path) -> None:
    shipped = {path.name for path in layer_assets.iterdir()}

    assert {"swagger-ui-bundle.js.gz", "redoc.standalone.js.gz"} <= shipped
    assert "swagger-ui-bundle.js" not in shipped
    packed = sum(p.stat().st_size for p in layer_assets.iterdir())
    assert packed < 1_200_000


@pytest.mark.parametrize("name", ["swagger-ui-bundle.js", "swagger-ui.css"])
def test_a_gzipped_asset_goes_out_gzipped_to_a_browser_and_plain_to_others(
    layer_assets: Path, name: str
) -> None:
    original = (INSTALLED / name).read_bytes()
    url = f"/docs/assets/{name}"

    browser = call("docs_assets", url, {"accept-encoding": "gzip, deflate, br"})
    plain = call("docs_assets", url)

    assert browser.headers["content-encoding"] == "gzip"
    assert browser.raw["isBase64Encoded"] is True
    assert gzip.decompress(base64.b64decode(browser.raw["body"])) == original
    assert "content-encoding" not in plain.headers
    assert plain.text.encode() == original
