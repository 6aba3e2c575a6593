from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from core.application.commands.run_task import RunTask
from core.application.errors import DependencyUnavailable, PermanentFailure
from core.application.tasks import (
    EMAIL,
    PURGE_UNVERIFIED,
    SEND_EMAIL,
    USERS,
    Job,
    JobRegistry,
    TaskSubmitter,
    UnknownJob,
)
from core.domain.task import Task, TaskStatus
from tests.fakes import FakeClock, InMemoryTaskStore, RecordingTaskQueue, SequentialIds

LEASE = timedelta(minutes=5)
MAX_RECEIVES = 3


@dataclass
class CountingJob:
    """Returns ``{"echo": payload}``; raises ``error`` while ``failures`` last."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    failures: int = 0
    error: Exception = field(default_factory=lambda: RuntimeError("secret internals"))

    def run(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        self.runs.append(dict(payload))
        if self.failures > 0:
            self.failures -= 1
            raise self.error
        return {"echo": dict(payload)}


@pytest.fixture
def task_store(clock: FakeClock) -> InMemoryTaskStore:
    return InMemoryTaskStore(clock)


@pytest.fixture
def job() -> CountingJob:
    return CountingJob()


@pytest.fixture
def run_task(task_store: InMemoryTaskStore, clock: FakeClock, job: Job) -> RunTask:
    return RunTask(task_store, JobRegistry({"count": job}), clock, LEASE, MAX_RECEIVES)


@pytest.fixture
def queued(task_store: InMemoryTaskStore, clock: FakeClock) -> Task:
    submitter = TaskSubmitter(
        task_store,
        RecordingTaskQueue(),
        SequentialIds("task"),
        clock,
        timedelta(days=1),
    )
    return submitter.submit("count", {"n": 1}, owner_id="user-1")


def test_a_queued_task_runs_its_job_once_and_stores_the_result(
    run_task: RunTask,
    task_store: InMemoryTaskStore,
    job: CountingJob,
    clock: FakeClock,
    queued: Task,
) -> None:
    clock.advance(timedelta(seconds=3))

    ended = run_task.execute(queued.id, receive_count=1)

    assert job.runs == [{"n": 1}]
    assert ended is not None
    assert ended.status is TaskStatus.SUCCEEDED
    assert task_store.stored(queued.id) == ended
    assert ended.result == {"echo": {"n": 1}}
    assert ended.error is None
    assert ended.attempts == 1
    assert ended.updated_at == clock.now()
    assert task_store.lease_of(queued.id) is None


def test_a_second_delivery_of_a_finished_task_does_nothing(
    run_task: RunTask, task_store: InMemoryTaskStore, job: CountingJob, queued: Task
) -> None:
    first = run_task.execute(queued.id, receive_count=1)

    again = run_task.execute(queued.id, receive_count=1)

    assert again is None
    assert len(job.runs) == 1
    assert task_store.stored(queued.id) == first
    assert task_store.calls["finish"] == 1


def test_a_delivery_while_another_worker_holds_the_task_does_nothing(
    run_task: RunTask,
    task_store: InMemoryTaskStore,
    job: CountingJob,
    clock: FakeClock,
    queued: Task,
) -> None:
    assert task_store.claim(queued.id, clock.now(), LEASE) is not None
    clock.advance(LEASE - timedelta(seconds=1))

    assert run_task.execute(queued.id, receive_count=2) is None
    assert job.runs == []
    stored = task_store.stored(queued.id)
    assert stored is not None
    assert stored.status is TaskStatus.RUNNING


def test_a_task_whose_worker_died_is_taken_over_once_the_lease_runs_out(
    run_task: RunTask,
    task_store: InMemoryTaskStore,
    job: CountingJob,
    clock: FakeClock,
    queued: Task,
) -> None:
    assert task_store.claim(queued.id, clock.now(), LEASE) is not None
    clock.advance(LEASE + timedelta(seconds=1))

    ended = run_task.execute(queued.id, receive_count=2)

    assert ended is not None
    assert ended.status is TaskStatus.SUCCEEDED
    assert ended.attempts == 2
    assert len(job.runs) == 1


def test_a_failing_job_records_its_error_puts_the_task_back_and_raises_for_a_retry(
    run_task: RunTask,
    task_store: InMemoryTaskStore,
    job: CountingJob,
    queued: Task,
) -> None:
    job.failures = 1
    job.error = DependencyUnavailable()

    with pytest.raises(DependencyUnavailable):
        run_task.execute(queued.id, receive_count=1)

    stored = task_store.stored(queued.id)
    assert stored is not None
    assert stored.status is TaskStatus.QUEUED
    assert stored.error == DependencyUnavailable.default_message
    assert stored.attempts == 1
    assert task_store.lease_of(queued.id) is None


def test_the_retry_after_a_failure_runs_the_job_again_and_can_succeed(
    run_task: RunTask,
    task_store: InMemoryTaskStore,
    job: CountingJob,
    queued: Task,
) -> None:
    job.failures = 1
    with pytest.raises(RuntimeError):
        run_task.execute(queued.id, receive_count=1)

    ended = run_task.execute(queued.id, receive_count=2)

    assert ended is not None
    assert ended.status is TaskStatus.SUCCEEDED
    assert ended.error is None
    assert ended.attempts == 2
    assert len(job.runs) == 2


def test_the_failure_on_the_last_receive_fails_the_task_for_good(
    run_task: RunTask,
    task_store: InMemoryTaskStore,
    job: CountingJob,
    queued: Task,
) -> None:
    job.failures = MAX_RECEIVES
    for receive in range(1, MAX_RECEIVES):
        with pytest.raises(RuntimeError):
            run_task.execute(queued.id, receive_count=receive)
        stored = task_store.stored(queued.id)
        assert stored is not None
        assert stored.status is TaskStatus.QUEUED

    with pytest.raises(RuntimeError):
        run_task.execute(queued.id, receive_count=MAX_RECEIVES)

    stored = task_store.stored(queued.id)
    assert stored is not None
    assert stored.status is TaskStatus.FAILED
    assert stored.attempts == MAX_RECEIVES
    # Another copy of the message, if SQS still delivers one, changes nothing.
    assert run_task.execute(queued.id, receive_count=MAX_RECEIVES + 1) is None
    assert len(job.runs) == MAX_RECEIVES


def test_an_unexpected_error_is_recorded_by_its_kind_without_its_text(
    run_task: RunTask,
    task_store: InMemoryTaskStore,
    job: CountingJob,
    queued: Task,
) -> None:
    job.failures = 1

    with pytest.raises(RuntimeError, match="secret internals"):
        run_task.execute(queued.id, receive_count=1)

    stored = task_store.stored(queued.id)
    assert stored is not None
    assert stored.error == "the job failed unexpectedly (RuntimeError)"


def test_a_task_naming_an_unknown_job_fails_for_good_at_once(
    task_store: InMemoryTaskStore, clock: FakeClock, job: CountingJob
) -> None:
    submitter = TaskSubmitter(
        task_store, RecordingTaskQueue(), SequentialIds("t"), clock, timedelta(days=1)
    )
    task = submitter.submit("no_such_job", {}, owner_id=None)
    run_task = RunTask(task_store, JobRegistry({"count": job}), clock, LEASE, 5)

    ended = run_task.execute(task.id, receive_count=1)

    assert ended is not None
    assert ended.status is TaskStatus.FAILED
    assert ended.error is not None
    assert "no_such_job" in ended.error
    assert task_store.stored(task.id) == ended
    assert job.runs == []


def test_an_unknown_or_expired_task_id_does_nothing(
    run_task: RunTask,
    task_store: InMemoryTaskStore,
    job: CountingJob,
    clock: FakeClock,
    queued: Task,
) -> None:
    assert run_task.execute("no-such-task", receive_count=1) is None
    clock.set(queued.expires_at)

    assert run_task.execute(queued.id, receive_count=1) is None
    assert job.runs == []


def test_a_permanent_failure_fails_the_task_at_once_without_a_retry(
    run_task: RunTask,
    task_store: InMemoryTaskStore,
    job: CountingJob,
    queued: Task,
) -> None:
    # SES refusing an address: the first delivery ends the task, and returning
    # (not raising) lets the queue drop the message, so it never reaches the
    # dead letter queue.
    job.failures = 1
    job.error = PermanentFailure("the email service refused the message (X)")

    ended = run_task.execute(queued.id, receive_count=1)

    assert ended is not None
    assert ended.status is TaskStatus.FAILED
    assert ended.error == "the email service refused the message (X)"
    stored = task_store.stored(queued.id)
    assert stored is not None
    assert stored.status is TaskStatus.FAILED
    assert run_task.execute(queued.id, receive_count=2) is None
    assert len(job.runs) == 1


# -- job families -------------------------------------------------------------------


def test_every_job_belongs_to_exactly_one_family() -> None:
    from core.application import tasks

    jobs = {
        tasks.SEND_EMAIL,
        tasks.SEND_VERIFICATION_EMAIL,
        tasks.SEND_PASSWORD_RESET,
        tasks.SEND_INVITATION,
        tasks.EXPORT_USERS,
        tasks.PURGE_UNVERIFIED,
        tasks.RECONCILE_SUBSCRIPTIONS,
        tasks.SYNC_SEATS,
    }
    assert set(tasks.JOB_FAMILIES) == jobs
    assert set(tasks.JOB_FAMILIES.values()) == set(tasks.FAMILIES)
    assert tasks.family_of(tasks.RECONCILE_SUBSCRIPTIONS) == tasks.BILLING
    # The seat sync calls Stripe: the billing worker's, never the email one's.
    assert tasks.family_of(tasks.SYNC_SEATS) == tasks.BILLING
    with pytest.raises(UnknownJob):
        tasks.family_of("drop_tables")


def test_a_familys_registry_fails_a_task_of_another_family_without_running_it(
    task_store: InMemoryTaskStore,
    submitter: TaskSubmitter,
    clock: FakeClock,
) -> None:
    """The email worker's registry, handed a purge (a users job): the purge never
    runs, and the task fails for good."""
    email, purge = CountingJob(), CountingJob()
    registry = JobRegistry({SEND_EMAIL: email, PURGE_UNVERIFIED: purge})
    run = RunTask(task_store, registry.only(EMAIL), clock, LEASE, MAX_RECEIVES)
    task = submitter.submit(PURGE_UNVERIFIED, {}, owner_id=None)

    done = run.execute(task.id, receive_count=1)

    assert done is not None
    assert done.status is TaskStatus.FAILED
    assert purge.runs == []
    assert registry.only(EMAIL).names() == [SEND_EMAIL]
    assert registry.only(USERS).names() == [PURGE_UNVERIFIED]
