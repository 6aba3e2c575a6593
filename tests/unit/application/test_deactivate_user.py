from __future__ import annotations

import pytest

from core.application.commands.authenticate import Authenticate
from core.application.commands.deactivate_user import DeactivateUser
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
def deactivate(
    users: InMemoryUserRepository, sessions: InMemorySessionStore
) -> DeactivateUser:
    return DeactivateUser(users, sessions)


@pytest.fixture
def authenticate(
    sessions: InMemorySessionStore, tokens: FakeTokenCodec, clock: FakeClock
) -> Authenticate:
    return Authenticate(sessions, tokens, clock, SESSION_TTL, RENEW_THRESHOLD)


def test_deactivation_bumps_the_epoch_and_ends_every_session_of_the_user(
    deactivate: DeactivateUser,
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
) -> None:
    admin, bobby = seed("admin1", ADMIN), seed("bobby")
    _, admin_token = open_session(admin)
    tokens = [open_session(bobby)[1] for _ in range(3)]

    deactivate.execute(admin, "bobby")

    stored = users.stored(bobby.id)
    assert stored is not None
    assert not stored.is_active
    assert stored.session_epoch == bobby.session_epoch + 1
    assert sessions.of_user(bobby.id) == []
    for token in tokens:
        with pytest.raises(NotAuthenticated):
            authenticate.execute(token)
    assert authenticate.execute(admin_token).user.id == admin.id


def test_deactivating_an_inactive_user_succeeds_without_writing_the_user(
    deactivate: DeactivateUser, seed: Seed, users: InMemoryUserRepository
) -> None:
    admin, bobby = seed("admin1", ADMIN), seed("bobby")
    deactivate.execute(admin, "bobby")
    once = users.stored(bobby.id)
    users.calls.clear()

    deactivate.execute(admin, "bobby")

    assert users.stored(bobby.id) == once
    assert users.writes == 0


# actor, target, allowed
def test_an_admin_cannot_deactivate_another_admin(
    deactivate: DeactivateUser, seed: Seed, users: InMemoryUserRepository
) -> None:
    admin, other = seed("admin1", ADMIN), seed("admin2", ADMIN)

    with pytest.raises(PermissionDenied):
        deactivate.execute(admin, "admin2")

    assert users.stored(other.id) == other


# Who may deactivate whom is the rule's (tests/unit/test_authorization.py) and the
# route's (tests/security/test_privileges.py); here, that the use case asks it.
@pytest.mark.parametrize("role", [ADMIN])
def test_nobody_deactivates_themselves(
    deactivate: DeactivateUser,
    seed: Seed,
    users: InMemoryUserRepository,
    role: Role,
) -> None:
    me = seed("myself", role)

    with pytest.raises(PermissionDenied):
        deactivate.execute(me, "MySelf")

    assert users.stored(me.id) == me


@pytest.mark.parametrize("username", ["nobody", "a..b", "x", "-bad-", "a" * 300])
def test_an_unknown_or_malformed_username_is_not_found(
    deactivate: DeactivateUser,
    seed: Seed,
    sessions: InMemorySessionStore,
    username: str,
) -> None:
    admin = seed("admin1", SUPER)

    with pytest.raises(UserNotFound):
        deactivate.execute(admin, username)

    assert sessions.writes == 0


def test_an_admin_demoted_meanwhile_cannot_deactivate_themselves(
    deactivate: DeactivateUser, seed: Seed, users: InMemoryUserRepository
) -> None:
    admin = seed("admin1", ADMIN)  # as authenticated
    demoted = users.save(admin.with_role(USER))  # revoked by a super admin since

    with pytest.raises(PermissionDenied):
        deactivate.execute(admin, "admin1")

    assert users.stored(admin.id) == demoted
