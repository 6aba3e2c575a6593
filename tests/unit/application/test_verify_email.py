from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core.application.commands.verify_email import VerifyEmail
from core.application.errors import ConcurrentUpdate, InvalidToken
from core.domain.user import Email, Role, User, Username
from tests.fakes import FakeClock, InMemoryOneTimeTokens, InMemoryUserRepository
from tests.unit.application.conftest import RacingUsers, Seed

DAY = timedelta(hours=24)


@pytest.fixture
def verify(
    users: InMemoryUserRepository, link_tokens: InMemoryOneTimeTokens, clock: FakeClock
) -> VerifyEmail:
    return VerifyEmail(users, link_tokens, clock)


def test_a_verification_token_marks_its_users_email_verified(
    verify: VerifyEmail,
    seed: Seed,
    users: InMemoryUserRepository,
    link_tokens: InMemoryOneTimeTokens,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    token = link_tokens.issue("verify_email", alice.id, clock.now(), DAY)

    verify.execute(token)

    stored = users.stored(alice.id)
    assert stored is not None
    assert stored.email_verified
    assert users.calls["save"] == 1


def test_verifying_twice_with_the_same_token_is_refused_the_second_time(
    verify: VerifyEmail,
    seed: Seed,
    users: InMemoryUserRepository,
    link_tokens: InMemoryOneTimeTokens,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    token = link_tokens.issue("verify_email", alice.id, clock.now(), DAY)
    verify.execute(token)
    users.calls.clear()

    with pytest.raises(InvalidToken):
        verify.execute(token)

    assert users.writes == 0


@pytest.mark.parametrize("case", ["unknown", "expired", "other purpose"])
def test_an_unusable_token_is_refused_and_changes_nothing(
    verify: VerifyEmail,
    seed: Seed,
    users: InMemoryUserRepository,
    link_tokens: InMemoryOneTimeTokens,
    clock: FakeClock,
    case: str,
) -> None:
    alice = seed("alice")
    purpose = "password_reset" if case == "other purpose" else "verify_email"
    token = link_tokens.issue(purpose, alice.id, clock.now(), DAY)
    if case == "unknown":
        token = "not-a-token-we-issued"
    if case == "expired":
        clock.advance(DAY)

    with pytest.raises(InvalidToken):
        verify.execute(token)

    assert users.writes == 0
    assert users.stored(alice.id) == alice


def test_a_token_whose_user_is_gone_is_refused(
    verify: VerifyEmail,
    seed: Seed,
    users: InMemoryUserRepository,
    link_tokens: InMemoryOneTimeTokens,
    clock: FakeClock,
) -> None:
    alice = seed("alice")
    token = link_tokens.issue("verify_email", alice.id, clock.now(), DAY)
    users.remove(alice)

    with pytest.raises(InvalidToken):
        verify.execute(token)


def test_an_already_verified_email_is_not_written_again(
    verify: VerifyEmail,
    seed: Seed,
    users: InMemoryUserRepository,
    link_tokens: InMemoryOneTimeTokens,
    clock: FakeClock,
) -> None:
    alice = users.save(replace(seed("alice"), email_verified=True))
    users.calls.clear()
    token = link_tokens.issue("verify_email", alice.id, clock.now(), DAY)

    verify.execute(token)

    assert users.writes == 0


def racing_setup(
    races: int, link_tokens: InMemoryOneTimeTokens, clock: FakeClock
) -> tuple[VerifyEmail, RacingUsers, str]:
    users = RacingUsers(races)
    alice = users.add(
        User(
            id="u1",
            username=Username("alice"),
            email=Email("alice@example.com"),
            password_hash="h",
            role=Role.USER,
            is_active=True,
            created_at=clock.now(),
        )
    )
    token = link_tokens.issue("verify_email", alice.id, clock.now(), DAY)
    return VerifyEmail(users, link_tokens, clock), users, token


def test_a_save_that_loses_a_race_reads_again_instead_of_wasting_the_token(
    link_tokens: InMemoryOneTimeTokens, clock: FakeClock
) -> None:
    verify, users, token = racing_setup(1, link_tokens, clock)

    verify.execute(token)

    stored = users.stored("u1")
    assert stored is not None
    assert stored.email_verified


def test_a_save_that_keeps_losing_races_gives_up_with_a_conflict(
    link_tokens: InMemoryOneTimeTokens, clock: FakeClock
) -> None:
    verify, users, token = racing_setup(10, link_tokens, clock)

    with pytest.raises(ConcurrentUpdate):
        verify.execute(token)

    stored = users.stored("u1")
    assert stored is not None
    assert not stored.email_verified
