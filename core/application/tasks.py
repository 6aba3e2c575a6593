"""Background work: the jobs there are, and how a request hands one off.

A request never does slow work itself: it submits a task (a record, then a queue
message) and answers. A worker later runs the task's job (see
``commands/run_task.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from core.application.errors import ApplicationError, TaskExists
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
# An organization's invitation email: its link token is issued as it is sent.
SEND_INVITATION = "send_invitation"
# Daily: re-read live subscriptions from Stripe (functions.resources.SCHEDULES).
RECONCILE_SUBSCRIPTIONS = "reconcile_subscriptions"


# The error of a task that never reached the queue.
QUEUE_FAILED = "could not be queued"


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
        self,
        name: str,
        payload: Mapping[str, Any],
        owner_id: str | None,
        *,
        task_id: str | None = None,
    ) -> Task:
        """Store and queue a task. With a ``task_id`` of the caller's making (derived
        from what caused it, e.g. a webhook event), submitting the same work twice
        raises ``TaskExists`` and queues nothing the second time."""
        now = self.clock.now()
        task = Task(
            id=task_id or self.ids.new_id(),
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
        self._enqueue(task, now)
        return task

    def submit_once(
        self, name: str, payload: Mapping[str, Any], owner_id: str | None, task_id: str
    ) -> Task | None:
        """``submit`` under ``task_id`` unless it was submitted before; ``None``
        then. A task whose queueing failed before it ever ran is queued again, so a
        caller that retries after such a failure loses nothing."""
        try:
            return self.submit(name, payload, owner_id, task_id=task_id)
        except TaskExists:
            stored = self.store.get(task_id)
            # Failed with no attempt made: only queueing can have failed it.
            never_ran = stored is not None and (
                stored.status is TaskStatus.FAILED and stored.attempts == 0
            )
            if stored is None or not never_ran:
                return None
        now = self.clock.now()
        retry = replace(stored, status=TaskStatus.QUEUED, error=None, updated_at=now)
        self.store.finish(retry)
        self._enqueue(retry, now)
        return retry

    def _enqueue(self, task: Task, now: datetime) -> None:
        try:
            self.queue.enqueue(task)
        except Exception:
            self.store.finish(task.failed(QUEUE_FAILED, now, final=True))
            raise
