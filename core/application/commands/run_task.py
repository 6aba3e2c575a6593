from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.application.errors import ApplicationError, PermanentFailure
from core.application.ports import Clock, TaskStore
from core.application.tasks import JobRegistry, UnknownJob
from core.domain.errors import DomainError
from core.domain.task import Task


def describe(error: Exception) -> str:
    """What a failed attempt records, for the task's owner to read: the message of
    an error raised on purpose (the application's and the domain's), only the kind
    of any other, whose text may carry internals (the worker logs it whole)."""
    if isinstance(error, ApplicationError | DomainError):
        return error.message
    return f"the job failed unexpectedly ({type(error).__name__})"


@dataclass(frozen=True, slots=True)
class RunTask:
    """A worker runs the task one queue message names, at most once to completion.

    Claims the task first: ``None`` from the claim means the task has finished or
    another worker holds it, so this delivery is a duplicate and does nothing. A job
    that succeeds stores its result. A job that raises records the error and the
    error rises again, so the queue delivers the message anew; the delivery whose
    ``receive_count`` reaches ``max_receives`` is the last before the dead letter
    queue, and marks the task ``failed`` for good. A task naming no known job, or
    whose job raises ``PermanentFailure``, fails for good at once, since no retry
    can fix it. Returns the task as it ended, or
    ``None`` for a duplicate.
    """

    store: TaskStore
    registry: JobRegistry
    clock: Clock
    lease: timedelta
    max_receives: int

    def execute(self, task_id: str, receive_count: int) -> Task | None:
        task = self.store.claim(task_id, self.clock.now(), self.lease)
        if task is None:
            return None
        try:
            job = self.registry.get(task.name)
        except UnknownJob as exc:
            failed = task.failed(describe(exc), self.clock.now(), final=True)
            self.store.finish(failed)
            return failed
        try:
            result = job.run(task.payload)
        except PermanentFailure as exc:
            # Refused for good: record it, and let the message go (no retry).
            failed = task.failed(describe(exc), self.clock.now(), final=True)
            self.store.finish(failed)
            return failed
        except Exception as exc:
            final = receive_count >= self.max_receives
            self.store.finish(task.failed(describe(exc), self.clock.now(), final))
            raise
        done = task.succeeded(result, self.clock.now())
        self.store.finish(done)
        return done
