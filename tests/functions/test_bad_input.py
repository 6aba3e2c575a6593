"""Bad input gets a clear 4xx problem and changes nothing; no input makes a 500."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest

from core.domain.user import Role
from functions.catalog import BY_NAME, ENDPOINTS, Endpoint
from local.harness import FakeLambdaContext, Reply, http_api_event
from tests.functions.conftest import PASSWORD, Api, assert_problem

LIMIT = 64 * 1024

# Endpoints that take a JSON body, a valid body for each, and the path to call.
BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "signup": (
        "/api/v1/account/signup",
        {"username": "newbie01", "email": "newbie@example.com", "password": PASSWORD},
    ),
    "login": ("/api/v1/account/login", {"username": "newbie01", "password": PASSWORD}),
    "create_user": (
        "/api/v1/users",
        {"username": "newbie01", "email": "newbie@example.com", "password": PASSWORD},
    ),
    "change_password": (
        "/api/v1/users/root01/password",
        {"password": "another passphrase", "current_password": PASSWORD},
    ),
}

REQUIRED: dict[str, set[str]] = {
    "signup": {"username", "email", "password"},
    "login": {"username", "password"},
    "create_user": {"username", "email", "password"},
    "change_password": {"password"},
}

# Bodies that are not what the endpoint takes, by what is wrong with them.
MALFORMED: dict[str, str] = {
    "not-json": '{"username": "newbie01", ',
    "empty": "",
    "a-list": "[]",
    "a-string": '"hello"',
    "null": "null",
    "nan": '{"password": NaN}',
}


def wrong_types(valid: dict[str, Any]) -> dict[str, Any]:
    return dict.fromkeys(valid, 12345)


def missing_fields(valid: dict[str, Any]) -> dict[str, Any]:
    return {}


def unknown_field(valid: dict[str, Any]) -> dict[str, Any]:
    return {**valid, "is_admin": True}


def nested(valid: dict[str, Any]) -> dict[str, Any]:
    return {key: {"$ne": None} for key in valid}


WRONG_SHAPES = {
    "wrong-types": wrong_types,
    "missing-fields": missing_fields,
    "unknown-field": unknown_field,
    "nested-objects": nested,
}


@pytest.fixture
def root_cookie(api: Api) -> str:
    """A logged-in super admin, the one caller every body endpoint but sign-up and
    log-in accepts; sign-up and log-in get no cookie."""
    return api.as_("root01", Role.SUPER_ADMIN)


def cookies_for(name: str, root_cookie: str) -> list[str]:
    return [] if name in ("signup", "login") else [root_cookie]


def users_stored(api: Api) -> int:
    from core.application.ports import SortOrder, UserSort

    page = api.container.users.list_page(UserSort.USERNAME, SortOrder.ASC, 100, None)
    return len(page.items)


@pytest.mark.parametrize("malformed", list(MALFORMED))
@pytest.mark.parametrize("name", list(BODIES))
def test_a_body_that_is_not_the_json_object_asked_for_is_a_422_invalid_input(
    api: Api, root_cookie: str, name: str, malformed: str
) -> None:
    path, _ = BODIES[name]
    before = users_stored(api)

    reply = api.call(
        name,
        path,
        raw_body=MALFORMED[malformed],
        cookies=cookies_for(name, root_cookie),
    )

    body = assert_problem(reply, 422, "invalid_input")
    assert body["errors"]
    assert all(set(error) == {"loc", "msg"} for error in body["errors"])
    assert users_stored(api) == before


@pytest.mark.parametrize("shape", list(WRONG_SHAPES))
@pytest.mark.parametrize("name", list(BODIES))
def test_a_json_object_of_the_wrong_shape_is_a_422_naming_the_fields(
    api: Api, root_cookie: str, name: str, shape: str
) -> None:
    path, valid = BODIES[name]
    before = users_stored(api)

    reply = api.call(
        name,
        path,
        json_body=WRONG_SHAPES[shape](valid),
        cookies=cookies_for(name, root_cookie),
    )

    body = assert_problem(reply, 422, "invalid_input")
    locations = [tuple(error["loc"]) for error in body["errors"]]
    assert all(location[0] == "body" for location in locations)
    named = {loc[:2] for loc in locations}
    if shape == "unknown-field":
        assert named == {("body", "is_admin")}
    elif shape == "missing-fields":
        assert named == {("body", key) for key in REQUIRED[name]}
    else:
        assert named >= {("body", key) for key in valid}
    assert users_stored(api) == before


def test_a_422_never_echoes_the_rejected_input(api: Api) -> None:
    secret = "my-secret-password-1234-" * 3

    reply = api.call(
        "signup", json_body={"username": ["x"], "email": 7, "password": {"p": secret}}
    )

    assert_problem(reply, 422, "invalid_input")
    assert "my-secret-password" not in reply.text


@pytest.mark.parametrize("name", list(BODIES))
def test_too_long_strings_are_a_422_not_a_slow_hash(
    api: Api, root_cookie: str, name: str
) -> None:
    path, valid = BODIES[name]

    reply = api.call(
        name,
        path,
        json_body=dict.fromkeys(valid, "x" * 2000),
        cookies=cookies_for(name, root_cookie),
    )

    assert_problem(reply, 422, "invalid_input")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_a_body_over_64_kib_is_a_413_on_every_endpoint(
    api: Api, endpoint: Endpoint
) -> None:
    path = endpoint.path.replace("{username}", "root01")
    oversized = '{"username": "' + "x" * LIMIT + '"}'

    reply = api.call(endpoint.name, path, raw_body=oversized)

    assert_problem(reply, 413, "payload_too_large")


@pytest.mark.parametrize("name", list(BODIES))
def test_a_body_over_64_kib_without_a_content_length_is_a_413_too(
    api: Api, root_cookie: str, name: str
) -> None:
    path, valid = BODIES[name]
    event = http_api_event(
        BY_NAME[name],
        path,
        json_body={**valid, "padding": "x" * LIMIT},
        cookies=cookies_for(name, root_cookie),
    )
    del event["headers"]["content-length"]
    before = users_stored(api)

    reply = Reply(
        import_module(BY_NAME[name].module).handler(event, FakeLambdaContext())
    )

    assert_problem(reply, 413, "payload_too_large")
    assert users_stored(api) == before


def test_a_body_of_exactly_64_kib_is_read(api: Api) -> None:
    padding = LIMIT - len('{"username": "", "password": "x"}')
    raw = '{"username": "' + "u" * padding + '", "password": "x"}'
    assert len(raw.encode()) == LIMIT

    reply = api.call("login", raw_body=raw)

    # Read in full and refused for what it says, not for its size.
    assert_problem(reply, 422, "invalid_input")


def test_a_base64_encoded_body_is_read_like_a_plain_one(api: Api) -> None:
    path, valid = BODIES["signup"]

    reply = api.call(
        "signup", path, raw_body=__import__("json").dumps(valid), base64_body=True
    )

    assert reply.status == 201, reply.text


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("grant_admin", "/api/v1/users/" + "x" * 65 + "/grant-admin"),
        ("activate_user", "/api/v1/users/%00%01/activate"),
        ("deactivate_user", "/api/v1/users/..%2F..%2Fetc/deactivate"),
        ("revoke_admin", "/api/v1/users/%E2%98%83%E2%98%83%E2%98%83/revoke-admin"),
    ],
)
def test_a_username_in_the_path_that_cannot_name_a_user_is_a_4xx_problem(
    api: Api, root_cookie: str, name: str, path: str
) -> None:
    reply = api.call(name, path, cookies=[root_cookie])

    assert 400 <= reply.status < 500, reply.text
    assert reply.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "cookie",
    [
        "access_token=",
        "access_token=" + "A" * 5000,
        "access_token=e30.e30.",
        "access_token=\u00e9t\u00e9",
        "access_token=a.b.c; access_token=d.e.f",
    ],
)
def test_a_malformed_session_cookie_is_a_401_on_a_protected_route(
    api: Api, cookie: str
) -> None:
    reply = api.call("me", cookies=[cookie])

    assert_problem(reply, 401, "not_authenticated")
