"""Password guessing is stopped per username and per client, across every Lambda
instance, however many guesses arrive at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

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


class AtClock:
    """A clock standing at ``offset`` into the current counting window: counters
    live in fixed windows (multiples of the window's length)."""

    def __init__(self, offset: timedelta) -> None:
        seconds = int(WINDOW.total_seconds())
        start = (int(datetime.now(UTC).timestamp()) // seconds) * seconds
        self.at = datetime.fromtimestamp(start, UTC) + offset

    def now(self) -> datetime:
        return self.at


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
    fresh_instance(api.container, clock=AtClock(timedelta(minutes=1)))
    fail(api, LIMIT)

    reply = log_in(api, PASSWORD)

    assert_problem(reply, 429, "too_many_attempts")
    retry_after = int(reply.headers["retry-after"])
    assert retry_after == WINDOW.total_seconds() - 60
    assert reply.cookie("access_token") is None


def test_the_count_holds_across_lambda_instances(api: Api) -> None:
    api.user("alice001")
    clock = AtClock(timedelta(minutes=1))
    for _ in range(LIMIT):
        # every failure lands on another instance
        fresh_instance(api.container, clock=clock)
        fail(api, 1)

    fresh_instance(api.container, clock=clock)
    assert_problem(log_in(api, PASSWORD), 429, "too_many_attempts")


def test_the_block_lifts_when_the_window_has_passed(api: Api) -> None:
    api.user("alice001")
    fresh_instance(api.container, clock=AtClock(timedelta(0)))
    fail(api, LIMIT)
    fresh_instance(api.container, clock=AtClock(WINDOW - timedelta(seconds=30)))
    assert_problem(log_in(api, PASSWORD), 429, "too_many_attempts")

    fresh_instance(api.container, clock=AtClock(WINDOW + timedelta(seconds=1)))
    assert log_in(api, PASSWORD).status == 204


def test_a_successful_log_in_resets_the_count(api: Api) -> None:
    api.user("alice001")
    fresh_instance(api.container, clock=AtClock(timedelta(minutes=1)))
    fail(api, LIMIT - 1)
    assert log_in(api, PASSWORD).status == 204
    api.call("logout", cookies=[])  # the cookie is not needed to count again

    fail(api, LIMIT - 1)
    assert log_in(api, PASSWORD).status == 204


@pytest.mark.parametrize("username", ["nobody01", "NoBody01"])
def test_unknown_usernames_are_throttled_like_known_ones(
    api: Api, username: str
) -> None:
    fresh_instance(api.container, clock=AtClock(timedelta(minutes=1)))
    for _ in range(LIMIT):
        reply = api.call(
            "login", json_body={"username": "nobody01", "password": "guess"}
        )
        assert_problem(reply, 401, "invalid_credentials")

    reply = api.call("login", json_body={"username": username, "password": "guess"})
    assert_problem(reply, 429, "too_many_attempts")


def test_thirty_simultaneous_guesses_get_at_most_five_judged(api: Api) -> None:
    # Each guess reserves its attempt with one conditional write before the
    # password is checked, so thirty at once cannot all be judged.
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    api.user("alice001")
    fresh_instance(api.container, clock=AtClock(timedelta(minutes=1)))

    def guess(n: int) -> int:
        # Mangum runs the app on the thread's event loop, as on one instance each.
        asyncio.set_event_loop(asyncio.new_event_loop())
        return api.call(
            "login",
            json_body={"username": "alice001", "password": "wrong password"},
            source_ip=f"203.0.113.{n}",
        ).status

    with ThreadPoolExecutor(max_workers=30) as pool:
        statuses = list(pool.map(guess, range(30)))

    assert statuses.count(401) == LIMIT
    assert statuses.count(429) == 30 - LIMIT


def test_one_client_stuffing_forty_usernames_gets_429(api: Api) -> None:
    fresh_instance(api.container, clock=AtClock(timedelta(minutes=1)))
    client_limit = api.container.settings.login_client_max_failures
    statuses = [
        api.call(
            "login",
            json_body={"username": f"victim{n:03d}", "password": "Password1"},
            source_ip="203.0.113.66",
        ).status
        for n in range(40)
    ]

    assert statuses[:client_limit] == [401] * client_limit
    assert statuses[client_limit:] == [429] * (40 - client_limit)
    reply = api.call(
        "login",
        json_body={"username": "victim999", "password": "Password1"},
        source_ip="203.0.113.66",
    )
    assert_problem(reply, 429, "too_many_attempts")
    assert int(reply.headers["retry-after"]) > 0
    # The accounts it guessed at are not locked for their owners elsewhere.
    api.user("victim001")
    reply = api.call(
        "login",
        json_body={"username": "victim001", "password": PASSWORD},
        source_ip="198.51.100.20",
    )
    assert reply.status == 204


def test_wrong_current_passwords_count_with_the_log_in_failures(api: Api) -> None:
    api.user("alice001")
    cookie = api.log_in("alice001")
    # The start of the window: never ahead of the token codec's real clock.
    fresh_instance(api.container, clock=AtClock(timedelta(0)))

    def change(current: str) -> Reply:
        return api.call(
            "change_password",
            "/api/v1/users/alice001/password",
            json_body={"password": "a new password!", "current_password": current},
            cookies=[cookie],
        )

    for _ in range(LIMIT):
        assert_problem(change("a guess"), 403, "wrong_password")

    reply = change(PASSWORD)
    assert_problem(reply, 429, "too_many_attempts")
    assert int(reply.headers["retry-after"]) > 0
    assert_problem(log_in(api, PASSWORD), 429, "too_many_attempts")
