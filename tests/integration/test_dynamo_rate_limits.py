"""Rate-limit counters in DynamoDB, shared by every Lambda instance."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from core.adapters.dynamodb.models import RateCounterItem, SessionItem
from core.adapters.dynamodb.rate_limits import DynamoRateLimiter, window_of
from core.adapters.dynamodb.sessions import DynamoSessionStore
from core.application.errors import TooManyAttempts
from core.application.ports import Limit, Settlement
from core.domain.session import Session

WINDOW = timedelta(minutes=15)
LIMIT = Limit("login", 5, WINDOW)
# The start of a window, so every count below falls in one.
START = datetime.fromtimestamp((int(datetime.now(UTC).timestamp()) // 900) * 900, UTC)


@pytest.fixture
def limiter(tables: None) -> DynamoRateLimiter:
    return DynamoRateLimiter()


def test_hits_up_to_the_limit_pass_and_the_next_is_refused_until_the_window_ends(
    limiter: DynamoRateLimiter,
) -> None:
    for _ in range(5):
        limiter.hit(LIMIT, "alice", START)

    with pytest.raises(TooManyAttempts) as refused:
        limiter.hit(LIMIT, "alice", START + timedelta(minutes=5))
    assert refused.value.retry_after == 600

    limiter.hit(LIMIT, "alice", START + WINDOW)  # the next window


def test_keys_and_limits_are_counted_apart(limiter: DynamoRateLimiter) -> None:
    for _ in range(5):
        limiter.hit(LIMIT, "alice", START)

    limiter.hit(LIMIT, "bobby", START)
    limiter.hit(Limit("login-client", 5, WINDOW), "alice", START)


def test_simultaneous_hits_from_many_instances_never_pass_the_limit(
    limiter: DynamoRateLimiter,
) -> None:
    # Thirty log-ins at once against a limit of five: each hit is one conditional
    # UpdateItem, so exactly five get through, however they interleave.
    workers = 30
    barrier = threading.Barrier(workers)
    passed: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []

    def hit(n: int) -> None:
        try:
            barrier.wait()
            limiter.hit(LIMIT, "alice", START)
            passed.append(n)
        except TooManyAttempts:
            refused.append(n)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=hit, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(passed) == 5
    assert len(refused) == 25


def test_clear_and_refund(limiter: DynamoRateLimiter) -> None:
    hits = [limiter.hit(LIMIT, "alice", START) for _ in range(5)]
    limiter.refund(hits[0])
    limiter.hit(LIMIT, "alice", START)  # the refunded one

    limiter.clear(LIMIT, "alice", START)

    for _ in range(5):
        limiter.hit(LIMIT, "alice", START)


def test_a_session_and_its_log_ins_settlement_are_one_write(
    limiter: DynamoRateLimiter,
) -> None:
    client = Limit("login-client", 20, WINDOW)
    user_hit = limiter.hit(LIMIT, "alice", START)
    client_hit = limiter.hit(client, "203.0.113.9", START)
    session = Session(
        id="s1", user_id="u1", created_at=START, expires_at=START + WINDOW
    )

    DynamoSessionStore().add(
        session, Settlement(clear=(user_hit,), refund=(client_hit,))
    )

    assert SessionItem.get("s1").user_id == "u1"
    assert RateCounterItem.count(user_hit.counter) == 0
    assert RateCounterItem.get(client_hit.counter).hits == 0


def test_counters_carry_the_windows_end_as_their_ttl_and_stay_out_of_the_index(
    limiter: DynamoRateLimiter,
) -> None:
    hit = limiter.hit(LIMIT, "alice", START)

    assert RateCounterItem.get(hit.counter).expires_at == window_of(LIMIT, START)[1]
    assert list(SessionItem.by_user.scan()) == []
