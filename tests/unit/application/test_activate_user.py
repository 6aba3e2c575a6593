from __future__ import annotations

import pytest

from core.application.commands.activate_user import ActivateUser
from core.application.commands.authenticate import Authenticate
from core.application.errors import NotAuthenticated, PermissionDenied, UserNotFound
from core.domain.user import Role
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

USER, ADMIN, SUPER = Role.USER, Role.ADMIN, Role.SUPER_ADMIN


@pytest.fixture
def activate(users: InMemoryUserRepository) -> ActivateUser:
    return ActivateUser(users)


def test_an_admin_lets_a_deactivated_user_log_in_again(
    activate: ActivateUser, seed: Seed, users: InMemoryUserRepository
) -> None:
    admin, bobby = seed("admin1", ADMIN), seed("bobby", active=False)

    activate.execute(admin, "bobby")

    stored = users.stored(bobby.id)
    assert stored is not None
    assert stored.is_active
    assert users.calls["save"] == 1


def test_reactivation_does_not_revive_sessions_from_before_the_deactivation(
    activate: ActivateUser,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    tokens: FakeTokenCodec,
    clock: FakeClock,
) -> None:
    admin, bobby = seed("admin1", ADMIN), seed("bobby")
    _, old_token = open_session(bobby)
    # Deactivated, but the session item survived (say the cleanup failed half-way).
    users.save(bobby.deactivated())

    activate.execute(admin, "bobby")

    authenticate = Authenticate(sessions, tokens, clock, SESSION_TTL, RENEW_THRESHOLD)
    with pytest.raises(NotAuthenticated):
        authenticate.execute(old_token)


def test_activating_an_active_user_succeeds_and_writes_nothing(
    activate: ActivateUser, seed: Seed, users: InMemoryUserRepository
) -> None:
    admin, bobby = seed("admin1", ADMIN), seed("bobby")

    activate.execute(admin, "bobby")

    assert users.stored(bobby.id) == bobby
    assert users.writes == 0


# actor, target, allowed
def test_nobody_activates_themselves(
    activate: ActivateUser, seed: Seed, users: InMemoryUserRepository
) -> None:
    # An inactive admin could not be logged in anyway; the rule still holds.
    me = seed("myself", ADMIN, active=False)

    with pytest.raises(PermissionDenied):
        activate.execute(me, "myself")

    assert users.stored(me.id) == me


@pytest.mark.parametrize("username", ["nobody", "a..b", "x"])
def test_activating_an_unknown_or_malformed_username_is_not_found(
    activate: ActivateUser, seed: Seed, username: str
) -> None:
    admin = seed("admin1", SUPER)

    with pytest.raises(UserNotFound):
        activate.execute(admin, username)
