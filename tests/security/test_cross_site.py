"""A cross-site form or text post cannot ride the session cookie."""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest

from core.domain.user import Role
from functions.catalog import BY_NAME
from local.harness import FakeLambdaContext, Reply, http_api_event
from tests.conftest import DynamoCalls
from tests.security.conftest import Api, assert_problem


def handler_of(name: str) -> Any:
    return import_module(BY_NAME[name].module).handler


FORM_TYPES = [
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "text/plain",
    "text/plain; charset=utf-8",
]


@pytest.mark.parametrize("content_type", FORM_TYPES)
def test_a_sign_up_posted_as_a_form_or_text_is_refused_before_any_work(
    api: Api, content_type: str, dynamo_calls: DynamoCalls
) -> None:
    body = '{"username": "formpost1", "email": "f@example.com", "password": "x" }'

    reply = api.call("signup", raw_body=body, headers={"content-type": content_type})

    assert_problem(reply, 415, "unsupported_media_type")
    assert dynamo_calls.total == 0


@pytest.mark.parametrize("content_type", [*FORM_TYPES, None])
def test_a_logged_in_admins_cookie_cannot_be_used_by_a_cross_site_form(
    api: Api, content_type: str | None, dynamo_calls: DynamoCalls
) -> None:
    cookie = api.as_("admin001", Role.ADMIN)
    api.user("victim01")
    dynamo_calls.reset()
    event = http_api_event(
        BY_NAME["deactivate_user"],
        "/api/v1/users/victim01/deactivate",
        raw_body="x=1",
        cookies=[cookie],
    )
    if content_type is None:  # an untyped blob, as a no-cors fetch can send
        del event["headers"]["content-type"]
    else:
        event["headers"]["content-type"] = content_type

    reply = Reply(handler_of("deactivate_user")(event, FakeLambdaContext()))

    assert_problem(reply, 415, "unsupported_media_type")
    assert dynamo_calls.total == 0
    victim = api.container.users.get_by_username("victim01")
    assert victim is not None
    assert victim.is_active


def test_json_with_a_charset_or_a_json_suffix_is_accepted(api: Api) -> None:
    for content_type in (
        "application/json; charset=utf-8",
        "application/merge-patch+json",
    ):
        reply = api.call(
            "signup",
            raw_body='{"username": "jsonuser1", "email": "j@example.com", '
            '"password": "long enough"}',
            headers={"content-type": content_type},
        )
        assert reply.status in (201, 409), reply.text


def test_a_state_change_without_a_body_needs_no_content_type(api: Api) -> None:
    cookie = api.as_("alice001")

    assert api.call("logout", cookies=[cookie]).status == 204


API_ORIGIN = "https://abc123.execute-api.us-east-1.amazonaws.com"


def deactivate_from(
    api: Api, headers: dict[str, str], name: str = "victim01"
) -> tuple[Reply, bool]:
    """An admin's cookie on a body-less PATCH (no content type to refuse), sent
    with ``headers``; the reply and whether the victim is still active."""
    cookie = api.as_("admin001", Role.ADMIN)
    api.user(name)
    reply = api.call(
        "deactivate_user",
        f"/api/v1/users/{name}/deactivate",
        cookies=[cookie],
        headers=headers,
    )
    victim = api.container.users.get_by_username(name)
    assert victim is not None
    return reply, victim.is_active


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example.net"},
        {"origin": "null"},
        {"origin": "https://evil.example.net", "sec-fetch-site": "same-origin"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ],
)
def test_a_body_less_state_change_from_another_site_is_refused_before_any_work(
    api: Api, headers: dict[str, str]
) -> None:
    reply, still_active = deactivate_from(api, headers)

    body = assert_problem(reply, 403, "origin_not_allowed")
    assert body["detail"]
    assert still_active


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": API_ORIGIN},
        {"origin": API_ORIGIN.upper() + "/"},
        {"sec-fetch-site": "same-origin"},
        {"sec-fetch-site": "none"},
        {},  # neither: a server, curl or a mobile app, with no ambient cookie
    ],
)
def test_the_apis_own_pages_and_non_browsers_may_change_state(
    api: Api, headers: dict[str, str]
) -> None:
    reply, still_active = deactivate_from(api, headers)

    assert reply.status == 204, reply.text
    assert not still_active


def test_a_cross_site_log_in_is_refused_too(api: Api) -> None:
    api.user("alice001")

    reply = api.call(
        "login",
        json_body={"username": "alice001", "password": "correct horse battery"},
        headers={"origin": "https://evil.example.net"},
    )

    assert_problem(reply, 403, "origin_not_allowed")
    assert reply.cookie("access_token") is None


def test_stripes_webhook_is_not_held_to_an_origin() -> None:
    from functions.runtime.middleware import refuses_origin

    scope = {"method": "POST", "path": "/api/v1/webhooks/stripe", "scheme": "https"}
    headers = {b"origin": b"https://evil.example.net", b"host": b"api.example.com"}

    assert not refuses_origin(scope, headers, frozenset())
    assert refuses_origin({**scope, "path": "/api/v1/users"}, headers, frozenset())


def test_the_stages_front_ends_are_allowed() -> None:
    from functions.runtime.middleware import refuses_origin

    scope = {"method": "PATCH", "path": "/api/v1/users/x/activate", "scheme": "https"}
    front = {b"origin": b"https://app.example.com", b"host": b"api.example.com"}
    allowed = frozenset({"https://app.example.com"})

    assert not refuses_origin(scope, front, allowed)
    assert refuses_origin(scope, front, frozenset())
    assert not refuses_origin({**scope, "method": "GET"}, front, frozenset())
