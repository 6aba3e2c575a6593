"""``TaskStore`` on DynamoDB."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from core.adapters.dynamodb.errors import CONDITION_FAILED, storage_errors
from core.adapters.dynamodb.models import TaskItem
from core.application.errors import TaskExists
from core.application.ports import Clock
from core.domain.task import Task, TaskStatus


def _dump(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _load(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    value: dict[str, Any] = json.loads(text)
    return value


def to_domain(item: TaskItem) -> Task:
    return Task(
        id=item.id,
        name=item.name,
        owner_id=item.owner_id,
        payload=_load(item.payload) or {},
        status=TaskStatus(item.status),
        attempts=int(item.attempts),
        created_at=item.created_at,
        updated_at=item.updated_at,
        expires_at=item.expires_at,
        result=_load(item.result),
        error=item.error,
    )


class DynamoTaskStore:
    """Task records in their own table, one item each (see ``models.TaskItem``).

    Every read treats a record past its ``expires_at`` as absent: TTL deletion lags.
    ``claim`` and ``finish`` are single conditional writes, so two workers holding
    copies of one message cannot both run the task, and an attempt that lost its
    lease cannot overwrite the outcome of the attempt that took over.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def add(self, task: Task) -> None:
        item = TaskItem(
            id=task.id,
            name=task.name,
            owner_id=task.owner_id,
            payload=_dump(task.payload),
            status=task.status.value,
            attempts=task.attempts,
            created_at=task.created_at,
            updated_at=task.updated_at,
            expires_at=task.expires_at,
            result=_dump(task.result),
            error=task.error,
        )
        with storage_errors():
            try:
                item.save(condition=TaskItem.id.does_not_exist())
            except PutError as exc:
                if exc.cause_response_code == CONDITION_FAILED:
                    raise TaskExists() from None
                raise

    def get(self, task_id: str) -> Task | None:
        with storage_errors():
            try:
                item = TaskItem.get(task_id, consistent_read=True)
            except DoesNotExist:
                return None
        if item.expires_at <= self._clock.now():
            return None
        return to_domain(item)

    def claim(self, task_id: str, now: datetime, lease: timedelta) -> Task | None:
        # One UpdateItem: the condition decides, atomically, whether this delivery
        # runs the task, and ALL_NEW hands back the record it will run.
        claimable = (TaskItem.status == TaskStatus.QUEUED.value) | (
            (TaskItem.status == TaskStatus.RUNNING.value) & (TaskItem.lease_until < now)
        )
        item = TaskItem(id=task_id)
        with storage_errors():
            try:
                item.update(
                    actions=[
                        TaskItem.status.set(TaskStatus.RUNNING.value),
                        TaskItem.attempts.add(1),
                        TaskItem.lease_until.set(now + lease),
                        TaskItem.updated_at.set(now),
                    ],
                    condition=claimable & (TaskItem.expires_at > now),
                )
            except UpdateError as exc:
                if exc.cause_response_code == CONDITION_FAILED:
                    return None
                raise
        return to_domain(item)

    def finish(self, task: Task) -> None:
        """Write the attempt's outcome if no later attempt has claimed the task
        since (the stored ``attempts`` is still the task's); else do nothing, as
        the record belongs to that later attempt."""
        actions: list[Any] = [
            TaskItem.status.set(task.status.value),
            TaskItem.updated_at.set(task.updated_at),
            TaskItem.lease_until.remove(),
        ]
        result = _dump(task.result)
        actions.append(
            TaskItem.result.remove() if result is None else TaskItem.result.set(result)
        )
        actions.append(
            TaskItem.error.remove()
            if task.error is None
            else TaskItem.error.set(task.error)
        )
        with storage_errors():
            try:
                TaskItem(id=task.id).update(
                    actions=actions,
                    condition=TaskItem.attempts == task.attempts,
                )
            except UpdateError as exc:
                if exc.cause_response_code != CONDITION_FAILED:
                    raise
