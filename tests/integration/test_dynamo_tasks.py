"""``DynamoTaskStore`` against moto: the claim is one conditional write that only one
delivery wins, and reads treat an expired record as absent."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.adapters.dynamodb.models import TaskItem, dynamodb_client
from core.adapters.dynamodb.tasks import DynamoTaskStore
from core.application.errors import DependencyUnavailable, TaskExists
from core.domain.task import Task, TaskStatus
from tests.conftest import DynamoCalls
from tests.fakes import FakeClock
from tests.integration.test_storage_unreachable import cut_off

NOW = datetime.now(UTC).replace(microsecond=0)
LEASE = timedelta(minutes=5)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def store(tables: None, clock: FakeClock) -> DynamoTaskStore:
    return DynamoTaskStore(clock)


def a_task(
    task_id: str = "task01", keep: timedelta = timedelta(days=1), **changes: Any
) -> Task:
    values: dict[str, Any] = {
        "id": task_id,
        "name": "export_users",
        "owner_id": "user01",
        "payload": {"key": "users/a.csv", "nested": {"n": [1, 2.5, None, True]}},
        "status": TaskStatus.QUEUED,
        "attempts": 0,
        "created_at": NOW,
        "updated_at": NOW,
        "expires_at": NOW + keep,
    }
    values.update(changes)
    return Task(**values)


def stored_item(task_id: str) -> TaskItem:
    return TaskItem.get(task_id, consistent_read=True)


def test_a_task_comes_back_as_it_was_added(store: DynamoTaskStore) -> None:
    task = a_task(owner_id=None)
    store.add(task)

    assert store.get(task.id) == task


def test_an_unknown_task_is_none(store: DynamoTaskStore) -> None:
    assert store.get("nope") is None


def test_a_task_id_cannot_be_added_twice(store: DynamoTaskStore) -> None:
    store.add(a_task())

    with pytest.raises(TaskExists):
        store.add(a_task(name="other"))
    stored = store.get("task01")
    assert stored is not None
    assert stored.name == "export_users"


def test_a_task_past_its_expiry_reads_as_absent_though_still_stored(
    store: DynamoTaskStore, clock: FakeClock
) -> None:
    store.add(a_task(keep=timedelta(minutes=1)))
    clock.advance(timedelta(minutes=1))

    assert store.get("task01") is None
    assert stored_item("task01").id == "task01"


def test_the_ttl_attribute_is_the_expiry_in_epoch_seconds(
    store: DynamoTaskStore,
) -> None:
    store.add(a_task())
    client = dynamodb_client()

    raw = client.get_item(
        TableName=TaskItem.Meta.table_name, Key={"id": {"S": "task01"}}
    )["Item"]
    ttl = client.describe_time_to_live(TableName=TaskItem.Meta.table_name)

    assert raw["expires_at"] == {"N": str(int((NOW + timedelta(days=1)).timestamp()))}
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


def test_a_claim_is_one_update_that_marks_it_running_and_counts_the_attempt(
    store: DynamoTaskStore, dynamo_calls: DynamoCalls
) -> None:
    store.add(a_task())
    dynamo_calls.reset()

    claimed = store.claim("task01", NOW, LEASE)

    assert dict(dynamo_calls.counts) == {"UpdateItem": 1}
    assert claimed is not None
    assert claimed.status is TaskStatus.RUNNING
    assert claimed.attempts == 1
    assert claimed.updated_at == NOW
    assert claimed.payload == a_task().payload
    assert stored_item("task01").lease_until == NOW + LEASE


def test_a_held_task_cannot_be_claimed_until_its_lease_runs_out(
    store: DynamoTaskStore,
) -> None:
    store.add(a_task())
    assert store.claim("task01", NOW, LEASE) is not None

    assert store.claim("task01", NOW + LEASE - timedelta(seconds=1), LEASE) is None
    taken = store.claim("task01", NOW + LEASE + timedelta(seconds=1), LEASE)

    assert taken is not None
    assert taken.attempts == 2
    assert stored_item("task01").lease_until == NOW + 2 * LEASE + timedelta(seconds=1)


@pytest.mark.parametrize("status", [TaskStatus.SUCCEEDED, TaskStatus.FAILED])
def test_a_finished_task_is_never_claimed_again(
    store: DynamoTaskStore, status: TaskStatus
) -> None:
    store.add(a_task(status=status))

    assert store.claim("task01", NOW + timedelta(hours=1), LEASE) is None
    stored = store.get("task01")
    assert stored is not None
    assert stored.attempts == 0


def test_an_unknown_or_expired_task_is_not_claimed_and_nothing_is_created(
    store: DynamoTaskStore,
) -> None:
    store.add(a_task(keep=timedelta(minutes=1)))

    assert store.claim("ghost", NOW, LEASE) is None
    assert store.claim("task01", NOW + timedelta(minutes=1), LEASE) is None
    assert TaskItem.count() == 1
    assert stored_item("task01").status == "queued"


def test_of_many_concurrent_claims_exactly_one_wins(store: DynamoTaskStore) -> None:
    store.add(a_task())
    contenders = 8
    start = threading.Barrier(contenders)

    def claim(_: int) -> Task | None:
        start.wait()
        return store.claim("task01", NOW, LEASE)

    with ThreadPoolExecutor(contenders) as pool:
        results = list(pool.map(claim, range(contenders)))

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].attempts == 1
    assert stored_item("task01").attempts == 1


def test_finish_stores_the_outcome_and_ends_the_lease(store: DynamoTaskStore) -> None:
    store.add(a_task())
    claimed = store.claim("task01", NOW, LEASE)
    assert claimed is not None
    later = NOW + timedelta(seconds=30)

    store.finish(claimed.succeeded({"url": "https://x", "rows": 3}, later))

    stored = store.get("task01")
    assert stored is not None
    assert stored.status is TaskStatus.SUCCEEDED
    assert stored.result == {"url": "https://x", "rows": 3}
    assert stored.error is None
    assert stored.updated_at == later
    assert stored_item("task01").lease_until is None


def test_a_success_after_a_failed_attempt_clears_the_error(
    store: DynamoTaskStore,
) -> None:
    store.add(a_task())
    first = store.claim("task01", NOW, LEASE)
    assert first is not None
    store.finish(first.failed("boom", NOW, final=False))
    second = store.claim("task01", NOW, LEASE)
    assert second is not None
    assert second.error == "boom"

    store.finish(second.succeeded({}, NOW))

    stored = store.get("task01")
    assert stored is not None
    assert (stored.status, stored.error, stored.result) == (
        TaskStatus.SUCCEEDED,
        None,
        {},
    )


def test_the_outcome_of_an_attempt_that_lost_its_lease_is_dropped(
    store: DynamoTaskStore,
) -> None:
    store.add(a_task())
    stale = store.claim("task01", NOW, LEASE)
    assert stale is not None
    current = store.claim("task01", NOW + 2 * LEASE, LEASE)
    assert current is not None

    store.finish(stale.failed("too late", NOW + 3 * LEASE, final=True))

    stored = store.get("task01")
    assert stored is not None
    assert stored.status is TaskStatus.RUNNING
    assert stored.attempts == 2
    assert stored.error is None


def test_finishing_an_unknown_task_creates_nothing(store: DynamoTaskStore) -> None:
    store.finish(a_task("ghost").failed("x", NOW, final=True))

    assert TaskItem.count() == 0


def test_unreachable_storage_is_a_dependency_error_for_every_operation(
    store: DynamoTaskStore,
) -> None:
    with cut_off():
        for operation in (
            lambda: store.add(a_task()),
            lambda: store.get("task01"),
            lambda: store.claim("task01", NOW, LEASE),
            lambda: store.finish(a_task()),
        ):
            with pytest.raises(DependencyUnavailable):
                operation()
