"""Failed log-ins counted in DynamoDB, shared by every Lambda instance."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from core.adapters.dynamodb.login_attempts import DynamoLoginAttempts
from core.adapters.dynamodb.models import LoginAttemptItem, SessionItem

NOW = datetime.now(UTC).replace(microsecond=0)
WINDOW = timedelta(minutes=15)


@pytest.fixture
def attempts(tables: None) -> DynamoLoginAttempts:
    return DynamoLoginAttempts()


def test_no_failures_means_no_window(attempts: DynamoLoginAttempts) -> None:
    assert attempts.current("alice", NOW) is None


def test_failures_count_into_one_window_that_starts_at_the_first(
    attempts: DynamoLoginAttempts,
) -> None:
    attempts.record_failure("alice", NOW, WINDOW)
    attempts.record_failure("alice", NOW + timedelta(minutes=5), WINDOW)
    attempts.record_failure("alice", NOW + timedelta(minutes=10), WINDOW)

    window = attempts.current("alice", NOW + timedelta(minutes=10))
    assert window is not None
    assert window.failures == 3
    assert window.ends_at == NOW + WINDOW


def test_a_window_past_its_end_counts_as_none_though_ttl_has_not_deleted_it(
    attempts: DynamoLoginAttempts,
) -> None:
    attempts.record_failure("alice", NOW, WINDOW)
    later = NOW + WINDOW

    assert attempts.current("alice", later) is None
    assert LoginAttemptItem.count("LOGIN#alice") == 1  # still stored

    attempts.record_failure("alice", later, WINDOW)
    window = attempts.current("alice", later)
    assert window is not None
    assert (window.failures, window.ends_at) == (1, later + WINDOW)


def test_clear_ends_the_window_and_clearing_nothing_is_no_error(
    attempts: DynamoLoginAttempts,
) -> None:
    attempts.record_failure("alice", NOW, WINDOW)
    attempts.clear("alice")
    attempts.clear("alice")

    assert attempts.current("alice", NOW) is None


def test_usernames_are_counted_apart(attempts: DynamoLoginAttempts) -> None:
    attempts.record_failure("alice", NOW, WINDOW)

    assert attempts.current("bobby", NOW) is None


def test_concurrent_failures_from_many_instances_are_all_counted(
    attempts: DynamoLoginAttempts,
) -> None:
    workers = 8
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def fail_once() -> None:
        try:
            barrier.wait()
            attempts.record_failure("alice", NOW, WINDOW)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=fail_once) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    window = attempts.current("alice", NOW)
    assert window is not None
    assert window.failures == workers


def test_attempt_items_stay_out_of_the_sessions_by_user_index(
    attempts: DynamoLoginAttempts,
) -> None:
    attempts.record_failure("alice", NOW, WINDOW)

    assert list(SessionItem.by_user.scan()) == []
