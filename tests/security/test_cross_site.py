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
