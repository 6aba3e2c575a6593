from __future__ import annotations

from datetime import timedelta

import pytest

from core.application.commands.request_export import RequestExport
from core.application.errors import DependencyUnavailable, PermissionDenied
from core.application.tasks import EXPORT_USERS, TaskSubmitter
from core.domain.task import TaskStatus
from core.domain.user import Role
from tests.fakes import FakeClock, InMemoryTaskStore, RecordingTaskQueue, SequentialIds
from tests.unit.application.conftest import Seed

KEEP = timedelta(days=7)


@pytest.fixture
def task_store(clock: FakeClock) -> InMemoryTaskStore:
    return InMemoryTaskStore(clock)


@pytest.fixture
def request_export(
    task_store: InMemoryTaskStore, task_queue: RecordingTaskQueue, clock: FakeClock
) -> RequestExport:
    submitter = TaskSubmitter(
        task_store, task_queue, SequentialIds("task"), clock, KEEP
    )
    return RequestExport(submitter, SequentialIds("file"))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPER_ADMIN])
def test_an_admin_gets_a_queued_export_task_of_their_own(
    request_export: RequestExport,
    task_store: InMemoryTaskStore,
    task_queue: RecordingTaskQueue,
    clock: FakeClock,
    seed: Seed,
    role: Role,
) -> None:
    admin = seed("admin01", role)

    task = request_export.execute(admin)

    assert task.name == EXPORT_USERS
    assert task.status is TaskStatus.QUEUED
    assert task.owner_id == admin.id
    assert task.attempts == 0
    assert task.expires_at == clock.now() + KEEP
    assert task.payload == {"key": "users/file-1.csv"}
    assert task_store.all() == [task]
    assert task_queue.queued == [task]


def test_every_export_gets_a_file_of_its_own(
    request_export: RequestExport, seed: Seed
) -> None:
    admin = seed("admin01", Role.ADMIN)

    first = request_export.execute(admin)
    second = request_export.execute(admin)

    assert first.id != second.id
    assert first.payload["key"] != second.payload["key"]


def test_a_plain_user_may_not_export_and_nothing_is_queued(
    request_export: RequestExport,
    task_store: InMemoryTaskStore,
    task_queue: RecordingTaskQueue,
    seed: Seed,
) -> None:
    user = seed("alice01")

    with pytest.raises(PermissionDenied):
        request_export.execute(user)

    assert task_store.all() == []
    assert task_queue.queued == []


def test_when_the_queue_is_down_the_error_rises_and_the_task_says_it_failed(
    request_export: RequestExport,
    task_store: InMemoryTaskStore,
    task_queue: RecordingTaskQueue,
    seed: Seed,
) -> None:
    admin = seed("admin01", Role.ADMIN)
    task_queue.fail = DependencyUnavailable()

    with pytest.raises(DependencyUnavailable):
        request_export.execute(admin)

    (stored,) = task_store.all()
    assert stored.status is TaskStatus.FAILED
    assert stored.error
