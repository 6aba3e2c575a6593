from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest

from core.application.commands.log_in import LogIn
from core.application.errors import (
    AccountInactive,
    AlreadyAuthenticated,
    InvalidCredentials,
    TooManyAttempts,
)
from core.application.limits import LoginPolicy
from tests.fakes import (
    FakeClock,
    FakePasswordHasher,
    FakeTokenCodec,
    InMemoryRateLimiter,
    InMemorySessionStore,
    InMemoryUserRepository,
    SequentialIds,
)
from tests.unit.application.conftest import PASSWORD, SESSION_TTL, Seed

WINDOW = timedelta(minutes=15)
POLICY = LoginPolicy(
    max_failures=5, window=WINDOW, client_max_failures=20, client_window=WINDOW
)


@pytest.fixture
def attempts(sessions: InMemorySessionStore) -> InMemoryRateLimiter:
    limiter = InMemoryRateLimiter()
    # The session store settles a log-in's counters, as the DynamoDB one does.
    sessions.limiter = limiter
    return limiter


@pytest.fixture
def log_in(
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    hasher: FakePasswordHasher,
    tokens: FakeTokenCodec,
    ids: SequentialIds,
    clock: FakeClock,
    attempts: InMemoryRateLimiter,
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
        POLICY,
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
    log_in: LogIn, seed: Seed, attempts: InMemoryRateLimiter, clock: FakeClock
) -> None:
    seed("alice")
    fail(log_in, "alice", 4)

    log_in.execute("alice", PASSWORD, current=None)

    assert attempts.hits(POLICY.per_username, "alice", clock.now()) == 0
    fail(log_in, "alice", 4)  # a fresh count: four more are not yet a block
    log_in.execute("alice", PASSWORD, current=None)


def test_a_blocked_attempt_checks_no_password_and_counts_nothing_more(
    log_in: LogIn,
    seed: Seed,
    hasher: FakePasswordHasher,
    attempts: InMemoryRateLimiter,
) -> None:
    seed("alice")
    fail(log_in, "alice", 5)
    hashes_before = len(hasher.verified) + len(hasher.dummy_verified)

    with pytest.raises(TooManyAttempts):
        log_in.execute("alice", "wrong password", current=None)

    assert attempts.counters == {next(iter(attempts.counters)): 5}
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


class SlowHasher(FakePasswordHasher):
    """Takes its time over every check, like bcrypt, and counts them."""

    def verify(self, password: str, password_hash: str) -> bool:
        time.sleep(0.05)
        return super().verify(password, password_hash)

    def dummy_verify(self, password: str) -> None:
        time.sleep(0.05)
        super().dummy_verify(password)


def test_simultaneous_guesses_get_no_more_than_the_limit_judged(
    log_in: LogIn, seed: Seed
) -> None:
    # Thirty guesses at once: the attempt is reserved before the slow check, so
    # only five are ever judged; the rest are refused without hashing.
    seed("alice")
    hasher = SlowHasher()
    slow = replace(log_in, hasher=hasher)

    def guess(_: int) -> str:
        try:
            slow.execute("alice", "wrong password", current=None)
        except InvalidCredentials:
            return "judged"
        except TooManyAttempts:
            return "refused"
        return "logged in"

    with ThreadPoolExecutor(max_workers=30) as pool:
        outcomes = list(pool.map(guess, range(30)))

    assert outcomes.count("judged") == 5
    assert outcomes.count("refused") == 25
    assert len(hasher.verified) == 5


def test_one_client_cannot_try_one_password_on_many_usernames(
    log_in: LogIn, seed: Seed
) -> None:
    # Credential stuffing: forty usernames, one password each, one address.
    outcomes = []
    for n in range(40):
        try:
            log_in.execute(
                f"user{n:04d}", "Password1", current=None, client="203.0.113.9"
            )
            outcomes.append("judged")
        except InvalidCredentials:
            outcomes.append("judged")
        except TooManyAttempts:
            outcomes.append("refused")

    assert outcomes.count("judged") == 20
    assert outcomes[20:] == ["refused"] * 20
    # Another client is not held back by that one.
    seed("alice")
    assert log_in.execute("alice", PASSWORD, current=None, client="198.51.100.1")


def test_the_right_password_gives_the_clients_hit_back(
    log_in: LogIn, seed: Seed, attempts: InMemoryRateLimiter, clock: FakeClock
) -> None:
    seed("alice")
    for _ in range(30):
        log_in.execute("alice", PASSWORD, current=None, client="203.0.113.9")

    assert attempts.hits(POLICY.per_client, "203.0.113.9", clock.now()) == 0


def test_a_client_out_of_guesses_spends_none_of_the_usernames(
    log_in: LogIn, seed: Seed, attempts: InMemoryRateLimiter, clock: FakeClock
) -> None:
    seed("alice")
    for n in range(20):
        with pytest.raises(InvalidCredentials):
            log_in.execute(f"user{n:04d}", "x", current=None, client="203.0.113.9")

    with pytest.raises(TooManyAttempts) as refused:
        log_in.execute("alice", "x", current=None, client="203.0.113.9")

    assert refused.value.retry_after == int(WINDOW.total_seconds())
    assert attempts.hits(POLICY.per_username, "alice", clock.now()) == 0


def test_a_locked_username_spends_none_of_the_clients_guesses(
    log_in: LogIn, seed: Seed, attempts: InMemoryRateLimiter, clock: FakeClock
) -> None:
    # Both counters are reserved together or not at all: the refused attempts on
    # a locked account do not bring the client nearer its own limit.
    seed("alice")
    fail_from = "203.0.113.9"
    for _ in range(POLICY.max_failures):
        with pytest.raises(InvalidCredentials):
            log_in.execute("alice", "x", current=None, client=fail_from)

    for _ in range(10):
        with pytest.raises(TooManyAttempts):
            log_in.execute("alice", "x", current=None, client=fail_from)

    assert attempts.hits(POLICY.per_client, fail_from, clock.now()) == (
        POLICY.max_failures
    )
