"""Responses with a user's data are never cached or sniffed; bodies are bounded."""

from __future__ import annotations

import pytest

from core.domain.user import Role
from functions.catalog import ENDPOINTS
from tests.security.conftest import Api, assert_problem

PRIVATE = [
    e
    for e in ENDPOINTS
    if e.path.startswith(("/api/v1/account", "/api/v1/users", "/api/v1/tasks"))
]


def concrete(path: str) -> str:
    return path.replace("{username}", "target01").replace("{task_id}", "0" * 32)


@pytest.mark.parametrize("endpoint", PRIVATE, ids=[e.name for e in PRIVATE])
@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "admin"])
def test_account_and_user_responses_are_no_store_and_nosniff(
    api: Api, endpoint: object, logged_in: bool
) -> None:
    from functions.catalog import Endpoint

    assert isinstance(endpoint, Endpoint)
    cookies = [api.as_("root0001", Role.SUPER_ADMIN)] if logged_in else []
    api.user("target01")

    reply = api.call(endpoint.name, concrete(endpoint.path), cookies=cookies)

    assert reply.headers["cache-control"] == "no-store"
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_every_response_is_nosniff_even_outside_the_private_paths(api: Api) -> None:
    reply = api.call("health")

    assert reply.headers["x-content-type-options"] == "nosniff"


def test_a_body_over_64_kib_answers_413_and_changes_nothing(api: Api) -> None:
    padding = "x" * (64 * 1024)
    body = {"username": "biguser1", "email": "b@example.com", "password": padding}

    assert_problem(api.call("signup", json_body=body), 413, "payload_too_large")
    assert api.container.users.get_by_username("biguser1") is None
