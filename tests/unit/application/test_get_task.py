from __future__ import annotations

from datetime import timedelta

import pytest

from core.application.errors import TaskNotFound
from core.application.queries.get_task import GetTask
from core.application.tasks import TaskSubmitter
from core.domain.task import Task
from core.domain.user import Role, User
from tests.fakes import FakeClock, InMemoryTaskStore, RecordingTaskQueue, SequentialIds
from tests.unit.application.conftest import Seed

KEEP = timedelta(days=1)


@pytest.fixture
def task_store() -> InMemoryTaskStore:
    # No clock: like storage whose TTL deletion lags, it hands back expired tasks,
    # and the query must check expiry itself.
    return InMemoryTaskStore()


@pytest.fixture
def get_task(task_store: InMemoryTaskStore, clock: FakeClock) -> GetTask:
    return GetTask(task_store, clock)


@pytest.fixture
def alice(seed: Seed) -> User:
    return seed("alice01")


@pytest.fixture
def task_of_alice(task_store: InMemoryTaskStore, clock: FakeClock, alice: User) -> Task:
    submitter = TaskSubmitter(
        task_store, RecordingTaskQueue(), SequentialIds("task"), clock, KEEP
    )
    return submitter.submit("export_users", {"key": "users/x.csv"}, alice.id)


def test_the_owner_sees_their_task(
    get_task: GetTask, alice: User, task_of_alice: Task
) -> None:
    assert get_task.execute(alice, task_of_alice.id) == task_of_alice


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPER_ADMIN])
def test_an_admin_sees_anyones_task(
    get_task: GetTask, seed: Seed, task_of_alice: Task, role: Role
) -> None:
    admin = seed("admin01", role)

    assert get_task.execute(admin, task_of_alice.id) == task_of_alice


def test_an_admin_sees_a_system_task_that_has_no_owner(
    get_task: GetTask, seed: Seed, task_store: InMemoryTaskStore, clock: FakeClock
) -> None:
    submitter = TaskSubmitter(
        task_store, RecordingTaskQueue(), SequentialIds("sys"), clock, KEEP
    )
    task = submitter.submit("purge_unverified", {}, owner_id=None)

    assert get_task.execute(seed("admin01", Role.ADMIN), task.id) == task
    with pytest.raises(TaskNotFound):
        get_task.execute(seed("bob0001"), task.id)


def test_another_user_is_told_there_is_no_such_task(
    get_task: GetTask, seed: Seed, task_of_alice: Task
) -> None:
    bob = seed("bob0001")

    with pytest.raises(TaskNotFound) as other:
        get_task.execute(bob, task_of_alice.id)
    with pytest.raises(TaskNotFound) as unknown:
        get_task.execute(bob, "task-999")

    assert other.value.message == unknown.value.message


def test_a_task_past_its_expiry_is_not_found_even_if_storage_still_holds_it(
    get_task: GetTask,
    task_store: InMemoryTaskStore,
    clock: FakeClock,
    alice: User,
    task_of_alice: Task,
) -> None:
    clock.set(task_of_alice.expires_at - timedelta(seconds=1))
    assert get_task.execute(alice, task_of_alice.id) == task_of_alice
    clock.set(task_of_alice.expires_at)

    with pytest.raises(TaskNotFound):
        get_task.execute(alice, task_of_alice.id)
    assert task_store.stored(task_of_alice.id) is not None
