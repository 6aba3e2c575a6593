"""A background task: work that runs off the request path, and its outcome."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any


class TaskStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Task:
    """What was asked (``name``, ``payload``), by whom (``owner_id``; ``None`` for
    system work such as scheduled jobs), and how it went. ``expires_at`` is when the
    record may be forgotten; ``result`` and ``error`` are set when it ends."""

    id: str
    name: str
    owner_id: str | None
    payload: dict[str, Any]
    status: TaskStatus
    attempts: int
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def is_finished(self) -> bool:
        return self.status in (TaskStatus.SUCCEEDED, TaskStatus.FAILED)

    def succeeded(self, result: dict[str, Any], now: datetime) -> Task:
        return replace(
            self, status=TaskStatus.SUCCEEDED, result=result, error=None, updated_at=now
        )

    def failed(self, error: str, now: datetime, final: bool) -> Task:
        """A failed attempt: back to ``queued`` for a retry, or ``failed`` for good."""
        status = TaskStatus.FAILED if final else TaskStatus.QUEUED
        return replace(self, status=status, error=error, updated_at=now)
