"""Rate-limit counters in DynamoDB, shared by every Lambda instance."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from core.adapters.dynamodb.models import (
    RateCounterItem,
    SessionItem,
    dynamodb_client,
)
from core.adapters.dynamodb.rate_limits import (
    DynamoRateLimiter,
    counter_of,
    window_of,
)
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


CLIENT = Limit("login-client", 20, timedelta(hours=1))


# The start of an hour: the windows of LIMIT and CLIENT begin there and end apart.
HOUR = datetime.fromtimestamp((int(START.timestamp()) // 3600 + 1) * 3600, UTC)


def hits_of(limit: Limit, key: str, at: datetime = START) -> int:
    counter = counter_of(limit, key, at)[0]
    try:
        return int(RateCounterItem.get(counter, consistent_read=True).hits)
    except RateCounterItem.DoesNotExist:
        return 0


def test_several_hits_at_once_count_each_key_and_come_back_in_order(
    limiter: DynamoRateLimiter,
) -> None:
    user_hit, client_hit = limiter.hit_all(
        [(LIMIT, "alice"), (CLIENT, "203.0.113.9")], START
    )

    assert (user_hit.limit, user_hit.key) == (LIMIT, "alice")
    assert (client_hit.limit, client_hit.key) == (CLIENT, "203.0.113.9")
    assert hits_of(LIMIT, "alice") == 1
    assert hits_of(CLIENT, "203.0.113.9") == 1


@pytest.mark.parametrize("full", ["first", "second", "both"])
def test_several_hits_at_once_count_nothing_when_any_key_is_at_its_limit(
    limiter: DynamoRateLimiter, full: str
) -> None:
    if full in ("first", "both"):
        for _ in range(LIMIT.max_hits):
            limiter.hit(LIMIT, "alice", HOUR)
    if full in ("second", "both"):
        for _ in range(CLIENT.max_hits):
            limiter.hit(CLIENT, "203.0.113.9", HOUR)
    before = hits_of(LIMIT, "alice", HOUR), hits_of(CLIENT, "203.0.113.9", HOUR)

    with pytest.raises(TooManyAttempts) as refused:
        limiter.hit_all([(LIMIT, "alice"), (CLIENT, "203.0.113.9")], HOUR)

    assert (
        hits_of(LIMIT, "alice", HOUR),
        hits_of(CLIENT, "203.0.113.9", HOUR),
    ) == before
    # The cancellation reasons tell which counter refused: the wait is until its
    # window ends (the later end, when both did).
    longest = CLIENT if full in ("second", "both") else LIMIT
    assert refused.value.retry_after == int(longest.window.total_seconds())


def test_simultaneous_reservations_on_one_key_stop_at_its_limit_count_no_refused(
    limiter: DynamoRateLimiter,
) -> None:
    # Thirty clients at once on one username: each reservation is one transaction
    # of two conditional updates, so five get through and the twenty-five refused
    # count against neither counter, however they interleave (as far as moto,
    # whose writes the test server serialises, honours DynamoDB's isolation).
    workers = 30
    barrier = threading.Barrier(workers)
    passed: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []

    def reserve(n: int) -> None:
        try:
            barrier.wait()
            limiter.hit_all([(LIMIT, "alice"), (CLIENT, f"client-{n}")], START)
            passed.append(n)
        except TooManyAttempts:
            refused.append(n)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=reserve, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(passed) == 5
    assert len(refused) == 25
    assert hits_of(LIMIT, "alice") == 5
    assert [hits_of(CLIENT, f"client-{n}") for n in sorted(passed)] == [1] * 5
    assert [hits_of(CLIENT, f"client-{n}") for n in refused] == [0] * 25


def test_a_reservation_that_keeps_meeting_others_in_flight_is_refused_not_an_outage(
    limiter: DynamoRateLimiter,
) -> None:
    """Real DynamoDB, unlike moto, cancels a transaction that meets another in
    flight on one of its items (``TransactionConflict``): the reservation is tried
    again a few times, then refused (fails closed), never a 503."""
    from botocore.stub import Stubber

    client = dynamodb_client()
    reasons = [{"Code": "TransactionConflict"}, {"Code": "None"}]
    with Stubber(client) as stubber:
        for _ in range(3):
            stubber.add_client_error(
                "transact_write_items",
                service_error_code="TransactionCanceledException",
                service_message="Transaction cancelled, please refer cancellation "
                "reasons for specific reasons [TransactionConflict, None]",
                http_status_code=400,
                modeled_fields={"CancellationReasons": reasons},
            )
        with pytest.raises(TooManyAttempts):
            limiter.hit_all([(LIMIT, "alice"), (CLIENT, "203.0.113.9")], START)
        stubber.assert_no_pending_responses()


def test_a_reservation_that_meets_one_conflict_goes_through_on_the_next_try(
    limiter: DynamoRateLimiter,
) -> None:
    from botocore.stub import Stubber

    client = dynamodb_client()
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            service_message="Transaction cancelled, please refer cancellation "
            "reasons for specific reasons [None, TransactionConflict]",
            http_status_code=400,
            modeled_fields={
                "CancellationReasons": [
                    {"Code": "None"},
                    {"Code": "TransactionConflict"},
                ]
            },
        )
        stubber.add_response("transact_write_items", {})
        hits = limiter.hit_all([(LIMIT, "alice"), (CLIENT, "203.0.113.9")], START)
        stubber.assert_no_pending_responses()

    assert [hit.key for hit in hits] == ["alice", "203.0.113.9"]


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
