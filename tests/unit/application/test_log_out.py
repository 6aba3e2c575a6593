from __future__ import annotations

import pytest

from core.application.commands.authenticate import Authenticate
from core.application.commands.log_out import LogOut
from core.application.errors import NotAuthenticated
from tests.fakes import FakeClock, FakeTokenCodec, InMemorySessionStore
from tests.unit.application.conftest import (
    RENEW_THRESHOLD,
    SESSION_TTL,
    OpenSession,
    Seed,
)


@pytest.fixture
def authenticate(
    sessions: InMemorySessionStore, tokens: FakeTokenCodec, clock: FakeClock
) -> Authenticate:
    return Authenticate(sessions, tokens, clock, SESSION_TTL, RENEW_THRESHOLD)


def test_logging_out_makes_the_token_useless(
    sessions: InMemorySessionStore,
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
) -> None:
    session, token = open_session(seed("alice"))

    LogOut(sessions).execute(session)

    assert sessions.stored(session.id) is None
    with pytest.raises(NotAuthenticated):
        authenticate.execute(token)


def test_logging_out_ends_only_the_current_session(
    sessions: InMemorySessionStore,
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
) -> None:
    alice = seed("alice")
    phone, _ = open_session(alice)
    laptop, laptop_token = open_session(alice)

    LogOut(sessions).execute(phone)

    assert sessions.of_user(alice.id) == [laptop]
    assert authenticate.execute(laptop_token).user.id == alice.id


def test_logging_out_of_an_already_ended_session_is_harmless(
    sessions: InMemorySessionStore, seed: Seed, open_session: OpenSession
) -> None:
    session, _ = open_session(seed("alice"))
    LogOut(sessions).execute(session)

    LogOut(sessions).execute(session)

    assert sessions.stored(session.id) is None
