from __future__ import annotations

from dataclasses import replace

import pytest

from core.application.commands.log_in import LogIn
from core.application.errors import (
    AccountInactive,
    AlreadyAuthenticated,
    InvalidCredentials,
)
from tests.fakes import (
    FakeClock,
    FakePasswordHasher,
    FakeTokenCodec,
    InMemorySessionStore,
    InMemoryUserRepository,
    SequentialIds,
)
from tests.unit.application.conftest import PASSWORD, SESSION_TTL, Seed


@pytest.fixture
def log_in(
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    hasher: FakePasswordHasher,
    tokens: FakeTokenCodec,
    ids: SequentialIds,
    clock: FakeClock,
) -> LogIn:
    return LogIn(users, sessions, hasher, tokens, ids, clock, SESSION_TTL)


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
