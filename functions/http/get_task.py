"""A background task, to its owner or an admin: status, attempts, result (the
export's download link) or error."""

from typing import Any, Literal

from functions.runtime import api

NOT_YOURS = ("No such task, or not one the caller may see", "task_not_found")


class TaskOut(api.FromAttributes):
    """A task and how it went: ``result`` once it has succeeded (an export's holds
    ``url``, ``rows``, ``bytes`` and ``expires_at``), ``error`` once an attempt
    has failed (the task may still be retried: see ``status``)."""

    id: str
    name: str
    status: Literal["queued", "running", "succeeded", "failed"]
    attempts: int
    result: dict[str, Any] | None
    error: str | None
    created_at: api.IsoTime
    updated_at: api.IsoTime


# Authenticate, read the task.
@api.endpoint(
    "GET /api/v1/tasks/{task_id}", (*api.p.AUTHENTICATED, api.p.TASKS_READ), budget=2
)
@api.who("the task's owner, or an admin")
@api.problems({404: NOT_YOURS, 422: "The task id in the path is too long"})
def get_task(task_id: api.Segment, ctx: api.LoggedIn) -> TaskOut:
    return TaskOut.model_validate(ctx.container.get_task().execute(ctx.user, task_id))
