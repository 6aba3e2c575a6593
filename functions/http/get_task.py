"""GET /api/v1/tasks/{task_id} : a background task, to its owner or an admin."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel

from core.domain.task import Task
from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems

router = APIRouter(tags=["tasks"])


class TaskOut(BaseModel):
    """A task and how it went: ``result`` once it has succeeded (an export's holds
    ``url``, ``rows``, ``bytes`` and ``expires_at``), ``error`` once an attempt
    has failed (the task may still be retried: see ``status``)."""

    id: str
    name: str
    status: Literal["queued", "running", "succeeded", "failed"]
    attempts: int
    result: dict[str, Any] | None
    error: str | None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, task: Task) -> "TaskOut":
        return cls(
            id=task.id,
            name=task.name,
            status=task.status.value,
            attempts=task.attempts,
            result=task.result,
            error=task.error,
            created_at=task.created_at.isoformat(),
            updated_at=task.updated_at.isoformat(),
        )


@router.get(
    "/api/v1/tasks/{task_id}",
    response_model=TaskOut,
    responses=problems(
        401,
        (404, "No such task, or not one the caller may see"),
        413,
        (422, "The task id in the path is too long"),
        503,
    ),
)
def get_task(
    task_id: Annotated[str, Path(max_length=64)],
    container: ContainerDep,
    auth: CurrentAuth,
) -> TaskOut:
    return TaskOut.of(container.get_task().execute(auth.user, task_id))


handler = lambda_handler(router)
