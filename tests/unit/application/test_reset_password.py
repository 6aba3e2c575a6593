from __future__ import annotations

from datetime import timedelta

import pytest

from core.application.commands.reset_password import ResetPassword
from core.application.errors import AccountInactive, InvalidToken
from core.application.limits import LoginPolicy
from core.domain.errors import InvalidPassword
from core.domain.password import PasswordPolicy
from core.domain.user import Email, Role, User, Username
from tests.fakes import (
    FakeClock,
    FakePasswordHasher,
    InMemoryOneTimeTokens,
    InMemoryRateLimiter,
    InMemorySessionStore,
    InMemoryUserRepository,
)
from tests.unit.application.conftest import OpenSession, RacingUsers, Seed

HOUR = timedelta(hours=1)
NEW_PASSWORD = "a brand new password"


@pytest.fixture
def reset(
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    link_tokens: InMemoryOneTimeTokens,
    hasher: FakePasswordHasher,
    clock: FakeClock,
    policy: PasswordPolicy,
    attempts: InMemoryRateLimiter,
) -> ResetPassword:
    return ResetPassword(users, sessions, link_tokens, hasher, clock, policy, attempts)


def test_a_reset_token_sets_the_password_and_ends_every_session(
    reset: ResetPassword,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    link_tokens: InMemoryOneTimeTokens,
    hasher: FakePasswordHasher,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    open_session(alice)
    open_session(alice)
    token = link_tokens.issue("password_reset", alice.id, clock.now(), HOUR)

    reset.execute(token, NEW_PASSWORD)

    stored = users.stored(alice.id)
    assert stored is not None
    assert hasher.verify(NEW_PASSWORD, stored.password_hash)
    assert stored.session_epoch == alice.session_epoch + 1
    assert sessions.of_user(alice.id) == []


def test_a_reset_proves_the_mailbox_so_the_email_counts_as_verified(
    reset: ResetPassword,
    seed: Seed,
    users: InMemoryUserRepository,
    link_tokens: InMemoryOneTimeTokens,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    token = link_tokens.issue("password_reset", alice.id, clock.now(), HOUR)

    reset.execute(token, NEW_PASSWORD)

    stored = users.stored(alice.id)
    assert stored is not None
    assert stored.email_verified


def test_a_used_reset_token_is_refused_the_second_time(
    reset: ResetPassword,
    seed: Seed,
    users: InMemoryUserRepository,
    link_tokens: InMemoryOneTimeTokens,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    token = link_tokens.issue("password_reset", alice.id, clock.now(), HOUR)
    reset.execute(token, NEW_PASSWORD)
    after_first = users.stored(alice.id)

    with pytest.raises(InvalidToken):
        reset.execute(token, "yet another password")

    assert users.stored(alice.id) == after_first


@pytest.mark.parametrize("case", ["unknown", "expired", "other purpose"])
def test_an_unusable_token_is_refused_and_changes_nothing(
    reset: ResetPassword,
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    link_tokens: InMemoryOneTimeTokens,
    clock: FakeClock,
    case: str,
) -> None:
    alice = seed("alice")
    session, _ = open_session(alice)
    purpose = "verify_email" if case == "other purpose" else "password_reset"
    token = link_tokens.issue(purpose, alice.id, clock.now(), HOUR)
    if case == "unknown":
        token = "not-a-token-we-issued"
    if case == "expired":
        clock.advance(HOUR)

    with pytest.raises(InvalidToken):
        reset.execute(token, NEW_PASSWORD)

    assert users.stored(alice.id) == alice
    assert users.writes == 0
    assert sessions.stored(session.id) == session


def test_a_password_the_policy_refuses_leaves_the_token_usable(
    reset: ResetPassword,
    seed: Seed,
    users: InMemoryUserRepository,
    link_tokens: InMemoryOneTimeTokens,
    hasher: FakePasswordHasher,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    token = link_tokens.issue("password_reset", alice.id, clock.now(), HOUR)

    with pytest.raises(InvalidPassword):
        reset.execute(token, "short")

    assert users.writes == 0
    reset.execute(token, NEW_PASSWORD)
    stored = users.stored(alice.id)
    assert stored is not None
    assert hasher.verify(NEW_PASSWORD, stored.password_hash)


def test_a_deactivated_user_cannot_reset_their_password(
    reset: ResetPassword,
    seed: Seed,
    users: InMemoryUserRepository,
    link_tokens: InMemoryOneTimeTokens,
    clock: FakeClock,
) -> None:
    alice = seed("alice", active=False)
    token = link_tokens.issue("password_reset", alice.id, clock.now(), HOUR)

    with pytest.raises(AccountInactive):
        reset.execute(token, NEW_PASSWORD)

    assert users.stored(alice.id) == alice


def test_a_save_that_loses_a_race_reads_again_instead_of_wasting_the_token(
    sessions: InMemorySessionStore,
    link_tokens: InMemoryOneTimeTokens,
    hasher: FakePasswordHasher,
    clock: FakeClock,
    policy: PasswordPolicy,
) -> None:
    users = RacingUsers(races=1)
    alice = users.add(
        User(
            id="u1",
            username=Username("alice"),
            email=Email("alice@example.com"),
            password_hash=hasher.hash("old password"),
            role=Role.USER,
            is_active=True,
            created_at=clock.now(),
        )
    )
    token = link_tokens.issue("password_reset", alice.id, clock.now(), HOUR)

    ResetPassword(
        users, sessions, link_tokens, hasher, clock, policy, InMemoryRateLimiter()
    ).execute(token, NEW_PASSWORD)

    stored = users.stored("u1")
    assert stored is not None
    assert hasher.verify(NEW_PASSWORD, stored.password_hash)


def test_a_used_reset_ends_every_other_outstanding_link_of_the_user(
    reset: ResetPassword,
    seed: Seed,
    link_tokens: InMemoryOneTimeTokens,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    first = link_tokens.issue("password_reset", alice.id, clock.now(), HOUR)
    second = link_tokens.issue("password_reset", alice.id, clock.now(), HOUR)

    reset.execute(first, NEW_PASSWORD)

    with pytest.raises(InvalidToken):
        reset.execute(second, "yet another password")


def test_a_reset_link_sent_before_a_password_change_is_dead(
    reset: ResetPassword,
    seed: Seed,
    users: InMemoryUserRepository,
    link_tokens: InMemoryOneTimeTokens,
    hasher: FakePasswordHasher,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    token = link_tokens.issue(
        "password_reset", alice.id, clock.now(), HOUR, epoch=alice.session_epoch
    )
    stored = users.stored(alice.id)
    assert stored is not None
    users.save(stored.with_password(hasher.hash("changed by its owner")))

    with pytest.raises(InvalidToken):
        reset.execute(token, NEW_PASSWORD)
    after = users.stored(alice.id)
    assert after is not None
    assert hasher.verify("changed by its owner", after.password_hash)


def test_a_reset_frees_the_account_from_a_log_in_lockout(
    reset: ResetPassword,
    seed: Seed,
    attempts: InMemoryRateLimiter,
    link_tokens: InMemoryOneTimeTokens,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    login = LoginPolicy()
    for _ in range(login.max_failures):
        attempts.hit(login.per_username, "alice", clock.now())
    token = link_tokens.issue("password_reset", alice.id, clock.now(), HOUR)

    reset.execute(token, NEW_PASSWORD)

    assert attempts.hits(login.per_username, "alice", clock.now()) == 0
