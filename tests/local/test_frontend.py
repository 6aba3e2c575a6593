"""The dev front end: every page the API sends a person to exists on the local
stack, and shows what it was handed without letting it run as markup."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from functions.runtime.container import build_container
from functions.runtime.settings import get_settings
from local.dev_app import build_app

BASE = "http://127.0.0.1:8123"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(build_app(), base_url=BASE) as client:
        yield client


KINDS = (
    "verify_email",
    "reset_password",
    "accept_invitation",
    "checkout_success",
    "checkout_cancel",
    "portal",
)


@pytest.fixture(scope="module")
def links(moto_endpoint: str) -> dict[str, str]:
    """Every link the application hands a person: those in emails, and Checkout's
    and the billing portal's return addresses, as the composition root makes them
    for a stack whose base URL is ``BASE``. (Built with moto's endpoint set, like
    every container, so the clients it makes point there.)"""
    settings = get_settings().model_copy(update={"app_base_url": BASE})
    container = build_container(settings)
    links, config = container.links, container.billing_config
    return {
        "verify_email": links.verify_email("t0k3n"),
        "reset_password": links.reset_password("t0k3n"),
        "accept_invitation": links.accept_invitation("t0k3n"),
        "checkout_success": config.success_url.replace(
            "{CHECKOUT_SESSION_ID}", "cs_test_1"
        ),
        "checkout_cancel": config.cancel_url,
        "portal": config.portal_return_url,
    }


@pytest.mark.parametrize("kind", KINDS)
def test_every_link_the_api_hands_out_lands_on_a_page(
    client: TestClient, links: dict[str, str], kind: str
) -> None:
    parts = urlsplit(links[kind])
    assert f"{parts.scheme}://{parts.netloc}" == BASE

    page = client.get(f"{parts.path}?{parts.query}" if parts.query else parts.path)

    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "<h1>" in page.text


def test_a_token_in_a_link_is_shown_escaped_never_as_markup(
    client: TestClient,
) -> None:
    hostile = '"><script>alert(1)</script>'

    page = client.get("/verify-email", params={"token": hostile})

    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_the_pages_stay_out_of_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert not {"/account", "/verify-email", "/reset-password"} & set(paths)
