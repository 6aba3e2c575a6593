from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core.application.commands.log_in import LogIn, LoginPolicy
from core.application.errors import (
    AccountInactive,
    AlreadyAuthenticated,
    InvalidCredentials,
    TooManyAttempts,
)
from tests.fakes import (
    FakeClock,
    FakePasswordHasher,
    FakeTokenCodec,
    InMemoryLoginAttempts,
    InMemorySessionStore,
    InMemoryUserRepository,
    SequentialIds,
)
from tests.unit.application.conftest import PASSWORD, SESSION_TTL, Seed

WINDOW = timedelta(minutes=15)


@pytest.fixture
def attempts() -> InMemoryLoginAttempts:
    return InMemoryLoginAttempts()


@pytest.fixture
def log_in(
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    hasher: FakePasswordHasher,
    tokens: FakeTokenCodec,
    ids: SequentialIds,
    clock: FakeClock,
    attempts: InMemoryLoginAttempts,
) -> LogIn:
    return LogIn(
        users,
        sessions,
        hasher,
        tokens,
        ids,
        clock,
        SESSION_TTL,
        attempts,
        LoginPolicy(max_failures=5, window=WINDOW),
    )


def test_the_right_password_opens_a_session_named_by_the_token(
    log_in: LogIn,
    seed: Seed,
    sessions: InMemorySessionStore,
    tokens: FakeTokenCodec,
    clock: FakeClock,
) -> None:
    alice = seed("alice")

    result = log_in.execute("alice", PASSWORD, current=None)

    assert result.session.user_id == alice.id
    assert result.session.created_at == clock.now()
    assert result.session.expires_at == clock.now() + SESSION_TTL
    assert sessions.stored(result.session.id) == result.session
    claims = tokens.read(result.token)
    assert (claims.session_id, claims.user_id) == (result.session.id, alice.id)
    assert claims.expires_at == result.session.expires_at


def test_the_username_is_matched_in_any_case(log_in: LogIn, seed: Seed) -> None:
    alice = seed("Alice")
    assert log_in.execute("aLICE", PASSWORD, current=None).session.user_id == alice.id


def test_every_log_in_makes_a_new_session_id(
    log_in: LogIn, seed: Seed, sessions: InMemorySessionStore
) -> None:
    alice = seed("alice")

    first = log_in.execute("alice", PASSWORD, current=None)
    second = log_in.execute("alice", PASSWORD, current=None)

    assert first.session.id != second.session.id
    assert first.token != second.token
    assert {s.id for s in sessions.of_user(alice.id)} == {
        first.session.id,
        second.session.id,
    }


def test_the_session_carries_the_users_current_epoch(
    log_in: LogIn, seed: Seed, users: InMemoryUserRepository
) -> None:
    alice = users.save(replace(seed("alice"), session_epoch=7))

    result = log_in.execute("alice", PASSWORD, current=None)

    assert result.session.epoch == alice.session_epoch == 7


@pytest.mark.parametrize("username", ["nobody", "a..b", "x", "NoSuchUser"])
def test_an_unknown_username_spends_a_dummy_check_and_gets_invalid_credentials(
    log_in: LogIn,
    seed: Seed,
    hasher: FakePasswordHasher,
    sessions: InMemorySessionStore,
    username: str,
) -> None:
    seed("alice")

    with pytest.raises(InvalidCredentials):
        log_in.execute(username, PASSWORD, current=None)

    assert hasher.dummy_verified == [PASSWORD]
    assert hasher.verified == []
    assert sessions.writes == 0


def test_a_wrong_password_gets_the_same_invalid_credentials(
    log_in: LogIn,
    seed: Seed,
    hasher: FakePasswordHasher,
    sessions: InMemorySessionStore,
) -> None:
    seed("alice")

    with pytest.raises(InvalidCredentials):
        log_in.execute("alice", "wrong password", current=None)

    assert hasher.verified == ["wrong password"]
    assert hasher.dummy_verified == []
    assert sessions.writes == 0


def test_a_deactivated_user_with_the_right_password_is_told_the_account_is_inactive(
    log_in: LogIn, seed: Seed, sessions: InMemorySessionStore
) -> None:
    seed("alice", active=False)

    with pytest.raises(AccountInactive):
        log_in.execute("alice", PASSWORD, current=None)

    assert sessions.writes == 0


def test_a_deactivated_user_with_a_wrong_password_learns_nothing_about_the_account(
    log_in: LogIn, seed: Seed, sessions: InMemorySessionStore
) -> None:
    seed("alice", active=False)

    with pytest.raises(InvalidCredentials):
        log_in.execute("alice", "wrong password", current=None)

    assert sessions.writes == 0


def test_a_logged_in_user_cannot_log_in_again(
    log_in: LogIn,
    seed: Seed,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
) -> None:
    alice = seed("alice")

    with pytest.raises(AlreadyAuthenticated):
        log_in.execute("alice", PASSWORD, current=alice)

    assert users.calls["get_by_username"] == 0
    assert sessions.writes == 0


def fail(log_in: LogIn, username: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            log_in.execute(username, "wrong password", current=None)


def test_five_failures_block_even_the_right_password_until_the_window_ends(
    log_in: LogIn, seed: Seed, clock: FakeClock
) -> None:
    seed("alice")
    fail(log_in, "alice", 5)

    with pytest.raises(TooManyAttempts) as refused:
        log_in.execute("alice", PASSWORD, current=None)
    assert refused.value.retry_after == int(WINDOW.total_seconds())

    clock.advance(WINDOW - timedelta(seconds=1))
    with pytest.raises(TooManyAttempts) as refused:
        log_in.execute("alice", PASSWORD, current=None)
    assert refused.value.retry_after == 1

    clock.advance(timedelta(seconds=1))
    assert log_in.execute("alice", PASSWORD, current=None).session.user_id


def test_four_failures_still_let_the_right_password_in_and_reset_the_count(
    log_in: LogIn, seed: Seed, attempts: InMemoryLoginAttempts
) -> None:
    seed("alice")
    fail(log_in, "alice", 4)

    log_in.execute("alice", PASSWORD, current=None)

    assert attempts.calls["clear"] == 1
    fail(log_in, "alice", 4)  # a fresh count: four more are not yet a block
    log_in.execute("alice", PASSWORD, current=None)


def test_a_blocked_attempt_checks_no_password_and_counts_nothing_more(
    log_in: LogIn,
    seed: Seed,
    hasher: FakePasswordHasher,
    attempts: InMemoryLoginAttempts,
) -> None:
    seed("alice")
    fail(log_in, "alice", 5)
    failures_before = attempts.calls["record_failure"]
    hashes_before = len(hasher.verified) + len(hasher.dummy_verified)

    with pytest.raises(TooManyAttempts):
        log_in.execute("alice", "wrong password", current=None)

    assert attempts.calls["record_failure"] == failures_before
    assert len(hasher.verified) + len(hasher.dummy_verified) == hashes_before


def test_an_unknown_username_is_counted_and_blocked_like_a_known_one(
    log_in: LogIn,
) -> None:
    fail(log_in, "nobody01", 5)

    with pytest.raises(TooManyAttempts):
        log_in.execute("NOBODY01", "anything", current=None)


def test_the_count_is_per_username_in_any_case(log_in: LogIn, seed: Seed) -> None:
    seed("alice")
    seed("bobby")
    fail(log_in, "Alice", 3)
    fail(log_in, "ALICE", 2)

    with pytest.raises(TooManyAttempts):
        log_in.execute("alice", PASSWORD, current=None)
    assert log_in.execute("bobby", PASSWORD, current=None).session.user_id
