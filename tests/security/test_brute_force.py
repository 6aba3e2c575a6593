"""Password guessing is stopped per username, across every Lambda instance."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from functions.runtime.container import Container, build_container, use_container
from functions.runtime.settings import get_settings
from local.harness import Reply
from tests.functions.conftest import PASSWORD
from tests.security.conftest import Api, assert_problem

# Lambda instances share only the database: the handlers run on moto.
pytestmark = pytest.mark.moto

WINDOW = timedelta(seconds=get_settings().login_window_seconds)
LIMIT = get_settings().login_max_failures


class ShiftedClock:
    def __init__(self, by: timedelta) -> None:
        self.by = by

    def now(self) -> datetime:
        from datetime import UTC

        return datetime.now(UTC) + self.by


def log_in(api: Api, password: str) -> Reply:
    return api.call("login", json_body={"username": "alice001", "password": password})


def fail(api: Api, times: int) -> None:
    for _ in range(times):
        assert_problem(log_in(api, "wrong password"), 401, "invalid_credentials")


def fresh_instance(container: Container, **changes: object) -> Container:
    """What a new Lambda instance would have: its own adapters, no shared memory."""
    instance = replace(build_container(container.settings), **changes)  # type: ignore[arg-type]
    use_container(instance)
    return instance


def test_the_defaults_are_five_failures_in_fifteen_minutes() -> None:
    assert (5, timedelta(minutes=15)) == (LIMIT, WINDOW)


def test_after_five_failures_even_the_right_password_gets_a_429_with_retry_after(
    api: Api,
) -> None:
    api.user("alice001")
    fail(api, LIMIT)

    reply = log_in(api, PASSWORD)

    assert_problem(reply, 429, "too_many_attempts")
    retry_after = int(reply.headers["retry-after"])
    assert WINDOW.total_seconds() - 60 < retry_after <= WINDOW.total_seconds()
    assert reply.cookie("access_token") is None


def test_the_count_holds_across_lambda_instances(api: Api) -> None:
    api.user("alice001")
    for _ in range(LIMIT):
        fresh_instance(api.container)  # every failure lands on another instance
        fail(api, 1)

    fresh_instance(api.container)
    assert_problem(log_in(api, PASSWORD), 429, "too_many_attempts")


def test_the_block_lifts_when_the_window_has_passed(api: Api) -> None:
    api.user("alice001")
    fail(api, LIMIT)
    fresh_instance(api.container, clock=ShiftedClock(WINDOW - timedelta(seconds=30)))
    assert_problem(log_in(api, PASSWORD), 429, "too_many_attempts")

    fresh_instance(api.container, clock=ShiftedClock(WINDOW + timedelta(seconds=1)))
    assert log_in(api, PASSWORD).status == 204


def test_a_successful_log_in_resets_the_count(api: Api) -> None:
    api.user("alice001")
    fail(api, LIMIT - 1)
    assert log_in(api, PASSWORD).status == 204
    api.call("logout", cookies=[])  # the cookie is not needed to count again

    fail(api, LIMIT - 1)
    assert log_in(api, PASSWORD).status == 204


@pytest.mark.parametrize("username", ["nobody01", "NoBody01"])
def test_unknown_usernames_are_throttled_like_known_ones(
    api: Api, username: str
) -> None:
    for _ in range(LIMIT):
        reply = api.call(
            "login", json_body={"username": "nobody01", "password": "guess"}
        )
        assert_problem(reply, 401, "invalid_credentials")

    reply = api.call("login", json_body={"username": username, "password": "guess"})
    assert_problem(reply, 429, "too_many_attempts")
