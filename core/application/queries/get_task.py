from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_see_task
from core.application.errors import TaskNotFound
from core.application.ports import Clock, TaskStore
from core.domain.task import Task
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class GetTask:
    """A task, as its owner or an admin sees it.

    To anyone else it does not exist: ``TaskNotFound``, the same as for an unknown
    id or a record past its ``expires_at``, so task ids cannot be probed.
    """

    store: TaskStore
    clock: Clock

    def execute(self, actor: User, task_id: str) -> Task:
        task = self.store.get(task_id)
        if (
            task is None
            or task.expires_at <= self.clock.now()
            or not can_see_task(actor, task)
        ):
            raise TaskNotFound()
        return task
