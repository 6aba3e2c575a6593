"""Background work: the jobs there are, and how a request hands one off.

A request never does slow work itself: it submits a task (a record, then a queue
message) and answers. A worker later runs the task's job (see
``commands/run_task.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from core.application.errors import ApplicationError
from core.application.ports import Clock, IdGenerator, TaskQueue, TaskStore
from core.domain.task import Task, TaskStatus

# The job names, shared by whoever submits a task and the registry that runs it.
SEND_EMAIL = "send_email"
EXPORT_USERS = "export_users"
PURGE_UNVERIFIED = "purge_unverified"
# Emails that carry a link token: the worker issues the token as it sends, so the
# raw token is never stored, not even in a task's payload.
SEND_VERIFICATION_EMAIL = "send_verification_email"
SEND_PASSWORD_RESET = "send_password_reset"  # noqa: S105 (a job name)


class UnknownJob(ApplicationError):
    code = "unknown_job"
    default_message = "no such job"


class Job(Protocol):
    """One kind of background work. ``run`` gets the task's payload and returns
    its result (JSON-compatible); raising fails the attempt, and the task is tried
    again until its attempts run out. A job may run more than once for one task if
    a worker dies mid-way, so its effects must be safe to repeat."""

    def run(self, payload: Mapping[str, Any]) -> dict[str, Any]: ...


class JobRegistry:
    """Task name -> the job that runs it; built in the composition root."""

    def __init__(self, jobs: Mapping[str, Job]) -> None:
        self._jobs = dict(jobs)

    def get(self, name: str) -> Job:
        try:
            return self._jobs[name]
        except KeyError:
            raise UnknownJob(f"no job named {name!r}") from None

    def names(self) -> list[str]:
        return sorted(self._jobs)


@dataclass(frozen=True, slots=True)
class TaskSubmitter:
    """Records a task and queues it. If queueing fails, the record says so
    (``failed``) rather than waiting forever as ``queued``, and the error rises."""

    store: TaskStore
    queue: TaskQueue
    ids: IdGenerator
    clock: Clock
    keep_for: timedelta

    def submit(
        self, name: str, payload: Mapping[str, Any], owner_id: str | None
    ) -> Task:
        now = self.clock.now()
        task = Task(
            id=self.ids.new_id(),
            name=name,
            owner_id=owner_id,
            payload=dict(payload),
            status=TaskStatus.QUEUED,
            attempts=0,
            created_at=now,
            updated_at=now,
            expires_at=now + self.keep_for,
        )
        self.store.add(task)
        try:
            self.queue.enqueue(task)
        except Exception:
            self.store.finish(task.failed("could not be queued", now, final=True))
            raise
        return task
