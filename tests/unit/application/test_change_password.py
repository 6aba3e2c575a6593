from __future__ import annotations

import pytest

from core.application.commands.authenticate import Authenticate
from core.application.commands.change_password import ChangePassword
from core.application.errors import (
    CurrentPasswordRequired,
    NotAuthenticated,
    PermissionDenied,
    TooManyAttempts,
    UserNotFound,
    WrongPassword,
)
from core.application.limits import LoginPolicy
from core.domain.errors import InvalidPassword
from core.domain.password import PasswordPolicy
from core.domain.user import Role, User
from tests.fakes import (
    FakeClock,
    FakePasswordHasher,
    FakeTokenCodec,
    InMemoryRateLimiter,
    InMemorySessionStore,
    InMemoryUserRepository,
)
from tests.unit.application.conftest import (
    PASSWORD,
    RENEW_THRESHOLD,
    SESSION_TTL,
    OpenSession,
    Seed,
)

NEW_PASSWORD = "a brand new secret"


@pytest.fixture
def change_password(
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    hasher: FakePasswordHasher,
    policy: PasswordPolicy,
    attempts: InMemoryRateLimiter,
    clock: FakeClock,
) -> ChangePassword:
    return ChangePassword(users, sessions, hasher, policy, attempts, clock)


@pytest.fixture
def authenticate(
    sessions: InMemorySessionStore, tokens: FakeTokenCodec, clock: FakeClock
) -> Authenticate:
    return Authenticate(sessions, tokens, clock, SESSION_TTL, RENEW_THRESHOLD)


def snapshot(
    users: InMemoryUserRepository, sessions: InMemorySessionStore, *people: User
) -> list[object]:
    return [
        (users.stored(p.id), sorted(sessions.of_user(p.id), key=lambda s: s.id))
        for p in people
    ]


def stored_hash(users: InMemoryUserRepository, user: User) -> str:
    stored = users.stored(user.id)
    assert stored is not None
    return stored.password_hash


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(
    change_password: ChangePassword,
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    hasher: FakePasswordHasher,
) -> None:
    alice = seed("alice")
    here, here_token = open_session(alice)
    elsewhere, elsewhere_token = open_session(alice)

    change_password.execute(alice, here, "alice", NEW_PASSWORD, PASSWORD)

    assert hasher.verify(NEW_PASSWORD, stored_hash(users, alice))
    assert not hasher.verify(PASSWORD, stored_hash(users, alice))
    assert authenticate.execute(here_token).user.id == alice.id
    assert sessions.stored(elsewhere.id) is None
    with pytest.raises(NotAuthenticated):
        authenticate.execute(elsewhere_token)


def test_a_password_change_bumps_the_epoch_and_moves_the_kept_session_to_it(
    change_password: ChangePassword,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
) -> None:
    alice = seed("alice")
    here, _ = open_session(alice)

    change_password.execute(alice, here, "alice", NEW_PASSWORD, PASSWORD)

    stored = users.stored(alice.id)
    assert stored is not None
    assert stored.session_epoch == alice.session_epoch + 1
    kept = sessions.stored(here.id)
    assert kept is not None
    assert kept.epoch == stored.session_epoch


def test_a_wrong_current_password_changes_nothing(
    change_password: ChangePassword,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
) -> None:
    alice = seed("alice")
    here, _ = open_session(alice)
    open_session(alice)
    before = snapshot(users, sessions, alice)

    with pytest.raises(WrongPassword):
        change_password.execute(alice, here, "alice", NEW_PASSWORD, "not my password")

    assert snapshot(users, sessions, alice) == before
    assert users.writes == 0
    assert sessions.writes == 0


def test_changing_ones_own_password_without_the_current_one_is_refused(
    change_password: ChangePassword,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
) -> None:
    alice = seed("alice")
    here, _ = open_session(alice)
    before = snapshot(users, sessions, alice)

    with pytest.raises(CurrentPasswordRequired):
        change_password.execute(alice, here, "alice", NEW_PASSWORD, None)

    assert snapshot(users, sessions, alice) == before
    assert users.writes == sessions.writes == 0


def test_even_an_admin_needs_the_current_password_for_their_own(
    change_password: ChangePassword, seed: Seed, open_session: OpenSession
) -> None:
    root = seed("root1", Role.SUPER_ADMIN)
    here, _ = open_session(root)

    with pytest.raises(CurrentPasswordRequired):
        change_password.execute(root, here, "root1", NEW_PASSWORD, None)


@pytest.mark.parametrize(
    ("admin_role", "target_role"),
    [
        (Role.ADMIN, Role.USER),
        (Role.SUPER_ADMIN, Role.USER),
        (Role.SUPER_ADMIN, Role.ADMIN),
    ],
)
def test_an_admin_sets_a_subordinates_password_and_ends_all_their_sessions(
    change_password: ChangePassword,
    authenticate: Authenticate,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    hasher: FakePasswordHasher,
    admin_role: Role,
    target_role: Role,
) -> None:
    admin, target = seed("boss1", admin_role), seed("bobby", target_role)
    admin_session, admin_token = open_session(admin)
    _, target_token_1 = open_session(target)
    _, target_token_2 = open_session(target)

    change_password.execute(admin, admin_session, "bobby", NEW_PASSWORD, None)

    assert hasher.verify(NEW_PASSWORD, stored_hash(users, target))
    assert sessions.of_user(target.id) == []
    for token in (target_token_1, target_token_2):
        with pytest.raises(NotAuthenticated):
            authenticate.execute(token)
    assert authenticate.execute(admin_token).user.id == admin.id


@pytest.mark.parametrize(
    ("actor_role", "target_role"),
    [
        (Role.USER, Role.USER),
        (Role.USER, Role.ADMIN),
        (Role.ADMIN, Role.ADMIN),
        (Role.ADMIN, Role.SUPER_ADMIN),
        (Role.SUPER_ADMIN, Role.SUPER_ADMIN),
    ],
)
def test_nobody_sets_the_password_of_a_peer_or_a_superior(
    change_password: ChangePassword,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    actor_role: Role,
    target_role: Role,
) -> None:
    actor, target = seed("actor", actor_role), seed("target", target_role)
    actor_session, _ = open_session(actor)
    open_session(target)
    before = snapshot(users, sessions, actor, target)

    with pytest.raises(PermissionDenied):
        change_password.execute(actor, actor_session, "target", NEW_PASSWORD, PASSWORD)

    assert snapshot(users, sessions, actor, target) == before
    assert users.writes == sessions.writes == 0


def test_an_admin_cannot_set_the_password_of_another_admin(
    change_password: ChangePassword, seed: Seed, open_session: OpenSession
) -> None:
    admin = seed("admin1", Role.ADMIN)
    seed("admin2", Role.ADMIN)
    admin_session, _ = open_session(admin)

    with pytest.raises(PermissionDenied):
        change_password.execute(admin, admin_session, "admin2", NEW_PASSWORD, None)


@pytest.mark.parametrize("username", ["nobody", "a..b", "x"])
def test_the_password_of_an_unknown_user_cannot_be_set(
    change_password: ChangePassword,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    username: str,
) -> None:
    admin = seed("admin1", Role.SUPER_ADMIN)
    admin_session, _ = open_session(admin)

    with pytest.raises(UserNotFound):
        change_password.execute(admin, admin_session, username, NEW_PASSWORD, None)

    assert users.writes == 0


@pytest.mark.parametrize("self_change", [True, False])
def test_a_new_password_that_breaks_the_policy_changes_nothing(
    change_password: ChangePassword,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    self_change: bool,
) -> None:
    admin, bobby = seed("admin1", Role.ADMIN), seed("bobby")
    actor = bobby if self_change else admin
    actor_session, _ = open_session(actor)
    open_session(bobby)
    before = snapshot(users, sessions, admin, bobby)

    with pytest.raises(InvalidPassword):
        change_password.execute(actor, actor_session, "bobby", "short", PASSWORD)

    assert snapshot(users, sessions, admin, bobby) == before
    assert users.writes == sessions.writes == 0


def test_the_username_in_the_path_is_matched_in_any_case(
    change_password: ChangePassword,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    hasher: FakePasswordHasher,
) -> None:
    alice = seed("Alice")
    here, _ = open_session(alice)

    change_password.execute(alice, here, "ALICE", NEW_PASSWORD, PASSWORD)

    assert hasher.verify(NEW_PASSWORD, stored_hash(users, alice))


def test_wrong_current_passwords_count_with_the_log_in_failures(
    change_password: ChangePassword,
    seed: Seed,
    open_session: OpenSession,
    attempts: InMemoryRateLimiter,
    hasher: FakePasswordHasher,
    clock: FakeClock,
) -> None:
    # A stolen session is not a faster way to guess the password than the log-in
    # form: the same counter, the same limit, checked before the hash.
    alice = seed("alice")
    session, _ = open_session(alice)
    for _ in range(5):
        with pytest.raises(WrongPassword):
            change_password.execute(alice, session, "alice", NEW_PASSWORD, "guess")
    checked = len(hasher.verified)

    with pytest.raises(TooManyAttempts):
        change_password.execute(alice, session, "alice", NEW_PASSWORD, PASSWORD)

    assert len(hasher.verified) == checked
    assert attempts.hits(LoginPolicy().per_username, "alice", clock.now()) == 5


def test_the_right_current_password_clears_the_count(
    change_password: ChangePassword,
    seed: Seed,
    open_session: OpenSession,
    attempts: InMemoryRateLimiter,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    session, _ = open_session(alice)
    for _ in range(4):
        with pytest.raises(WrongPassword):
            change_password.execute(alice, session, "alice", NEW_PASSWORD, "guess")

    change_password.execute(alice, session, "alice", NEW_PASSWORD, PASSWORD)

    assert attempts.hits(LoginPolicy().per_username, "alice", clock.now()) == 0
