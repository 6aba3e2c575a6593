from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest

from core.application.commands.authenticate import Authenticate
from core.application.errors import NotAuthenticated
from core.application.ports import TokenClaims
from tests.fakes import (
    FakeClock,
    FakeTokenCodec,
    InMemorySessionStore,
    InMemoryUserRepository,
)
from tests.unit.application.conftest import (
    RENEW_THRESHOLD,
    SESSION_TTL,
    OpenSession,
    Seed,
)

# With a 1 h lifetime and a 0.5 threshold, a session renews once under 30 min are left.
HALF_LIFE = SESSION_TTL * RENEW_THRESHOLD


@pytest.fixture
def authenticate(
    sessions: InMemorySessionStore, tokens: FakeTokenCodec, clock: FakeClock
) -> Authenticate:
    return Authenticate(sessions, tokens, clock, SESSION_TTL, RENEW_THRESHOLD)


def test_a_valid_token_resolves_to_its_user_with_one_read_and_no_write(
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    sessions: InMemorySessionStore,
    users: InMemoryUserRepository,
) -> None:
    alice = seed("alice")
    session, token = open_session(alice)

    result = authenticate.execute(token)

    assert result.user == alice
    assert result.session == session
    assert result.renewed_token is None
    assert sessions.calls == Counter(get_with_user=1)
    assert sum(users.calls.values()) == 0


def test_a_session_running_low_is_renewed_with_one_write_and_a_new_token(
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    sessions: InMemorySessionStore,
    tokens: FakeTokenCodec,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    session, token = open_session(alice)
    clock.advance(HALF_LIFE + timedelta(seconds=1))

    result = authenticate.execute(token)

    assert result.renewed_token is not None
    assert result.renewed_token != token
    assert result.session.expires_at == clock.now() + SESSION_TTL
    assert tokens.read(result.renewed_token).expires_at == clock.now() + SESSION_TTL
    assert tokens.read(result.renewed_token).session_id == session.id
    stored = sessions.stored(session.id)
    assert stored is not None
    assert stored.expires_at == clock.now() + SESSION_TTL
    assert sessions.calls == Counter(get_with_user=1, extend=1)


def test_a_session_with_exactly_the_threshold_left_is_not_renewed(
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    sessions: InMemorySessionStore,
    clock: FakeClock,
) -> None:
    _, token = open_session(seed("alice"))
    clock.advance(HALF_LIFE)

    assert authenticate.execute(token).renewed_token is None
    assert sessions.calls["extend"] == 0


def test_a_check_without_renewal_never_writes_even_when_the_session_runs_low(
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    sessions: InMemorySessionStore,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    session, token = open_session(alice)
    clock.advance(SESSION_TTL - timedelta(seconds=1))

    result = authenticate.execute(token, renew=False)

    assert result.user == alice
    assert result.renewed_token is None
    assert sessions.calls == Counter(get_with_user=1)
    assert sessions.stored(session.id) == session


def test_an_expired_token_is_refused_without_touching_storage(
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    sessions: InMemorySessionStore,
    clock: FakeClock,
) -> None:
    _, token = open_session(seed("alice"))
    clock.advance(SESSION_TTL)

    with pytest.raises(NotAuthenticated):
        authenticate.execute(token)

    assert sum(sessions.calls.values()) == 0


@pytest.mark.parametrize("token", ["", "garbage", "token-999"])
def test_a_token_that_was_never_issued_is_refused_without_touching_storage(
    authenticate: Authenticate, sessions: InMemorySessionStore, token: str
) -> None:
    with pytest.raises(NotAuthenticated):
        authenticate.execute(token)

    assert sum(sessions.calls.values()) == 0


def test_an_expired_session_still_in_storage_is_refused(
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    sessions: InMemorySessionStore,
    tokens: FakeTokenCodec,
    clock: FakeClock,
) -> None:
    # Storage TTL deletion lags, and the token here outlives its session: only the
    # session's own expiry can refuse it.
    alice = seed("alice")
    session, _ = open_session(alice)
    token = tokens.mint(
        TokenClaims(session.id, alice.id, session.expires_at + timedelta(days=1))
    )
    clock.advance(SESSION_TTL)
    assert sessions.stored(session.id) is not None

    with pytest.raises(NotAuthenticated):
        authenticate.execute(token)

    assert sessions.calls["extend"] == 0


def test_a_token_naming_another_users_session_is_refused(
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    tokens: FakeTokenCodec,
) -> None:
    alice, mallory = seed("alice"), seed("mallory")
    alices_session, _ = open_session(alice)
    open_session(mallory)
    swapped = tokens.mint(
        TokenClaims(alices_session.id, mallory.id, alices_session.expires_at)
    )

    with pytest.raises(NotAuthenticated):
        authenticate.execute(swapped)


def test_a_token_naming_a_user_that_does_not_exist_is_refused(
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    tokens: FakeTokenCodec,
) -> None:
    session, _ = open_session(seed("alice"))
    ghost = tokens.mint(TokenClaims(session.id, "no-such-user", session.expires_at))

    with pytest.raises(NotAuthenticated):
        authenticate.execute(ghost)


def test_a_session_from_an_earlier_epoch_is_refused(
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
) -> None:
    alice = seed("alice")
    _, token = open_session(alice)
    users.save(alice.with_password("hashed:something else"))

    with pytest.raises(NotAuthenticated):
        authenticate.execute(token)


def test_a_session_of_an_inactive_user_is_refused_even_in_the_current_epoch(
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
) -> None:
    alice = seed("alice")
    _, token = open_session(alice)
    users.save(replace(alice, is_active=False))

    with pytest.raises(NotAuthenticated):
        authenticate.execute(token)


def test_a_deleted_session_is_refused(
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    sessions: InMemorySessionStore,
) -> None:
    session, token = open_session(seed("alice"))
    sessions.delete(session.id)

    with pytest.raises(NotAuthenticated):
        authenticate.execute(token)


def test_a_refused_session_is_never_renewed(
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    _, token = open_session(alice)
    users.save(replace(alice, is_active=False))
    clock.advance(HALF_LIFE + timedelta(minutes=1))

    with pytest.raises(NotAuthenticated):
        authenticate.execute(token)

    assert sessions.calls["extend"] == 0


def test_renewals_stop_at_the_sessions_absolute_lifetime(
    sessions: InMemorySessionStore,
    tokens: FakeTokenCodec,
    clock: FakeClock,
    seed: Seed,
    open_session: OpenSession,
) -> None:
    # An active user renewing every half hour is still logged out after max_age:
    # the creation time comes with the session read, so this costs no read.
    max_age = SESSION_TTL * 3
    authenticate = Authenticate(
        sessions, tokens, clock, SESSION_TTL, RENEW_THRESHOLD, max_age
    )
    alice = seed("alice")
    session, token = open_session(alice)
    ends = session.created_at + max_age

    while clock.now() + HALF_LIFE + timedelta(seconds=1) < ends:
        clock.advance(HALF_LIFE + timedelta(seconds=1))
        result = authenticate.execute(token)
        token = result.renewed_token or token
        assert result.session.expires_at <= ends
    stored = sessions.stored(session.id)
    assert stored is not None
    assert stored.expires_at == ends

    clock.set(ends - timedelta(seconds=1))
    assert authenticate.execute(token).renewed_token is None
    clock.set(ends)
    with pytest.raises(NotAuthenticated):
        authenticate.execute(token)


def test_a_session_older_than_its_lifetime_is_refused_whatever_its_expiry(
    sessions: InMemorySessionStore,
    tokens: FakeTokenCodec,
    clock: FakeClock,
    seed: Seed,
    open_session: OpenSession,
) -> None:
    # A session stored before the limit existed (or renewed past it) ends anyway.
    authenticate = Authenticate(
        sessions, tokens, clock, SESSION_TTL, RENEW_THRESHOLD, SESSION_TTL / 2
    )
    alice = seed("alice")
    _, token = open_session(alice)
    clock.advance(SESSION_TTL / 2)

    with pytest.raises(NotAuthenticated):
        authenticate.execute(token)
