"""``TaskQueue`` on SQS."""

from __future__ import annotations

import json
from collections.abc import Callable

from core.adapters.aws import LazyClient, aws_errors
from core.domain.task import Task


def task_message(task: Task, correlation_id: str | None = None) -> str:
    """The body of a task's message: which task, and (for logs and metrics) what job
    and the correlation id of the request that asked for it.

    Only the id matters to the worker, which reads the rest from the task record, so
    a message carries nothing that a stale copy could get wrong.
    """
    message = {"task_id": task.id, "name": task.name}
    if correlation_id:
        message["correlation_id"] = correlation_id
    return json.dumps(message)


class SqsTaskQueue:
    """Sends one message per task to the task queue; the worker Lambda consumes it.

    Delivery is at least once: the task store's ``claim`` makes a repeat a no-op.
    """

    def __init__(
        self,
        queue_url: str,
        region: str,
        correlation: Callable[[], str | None] = lambda: None,
    ) -> None:
        # What the caller is doing now (its correlation id), for the worker's logs.
        self._correlation = correlation
        self._queue_url = queue_url
        self._client = LazyClient("sqs", region, connect_timeout=5, read_timeout=10)

    def enqueue(self, task: Task) -> None:
        with aws_errors():
            self._client.get().send_message(
                QueueUrl=self._queue_url,
                MessageBody=task_message(task, self._correlation()),
            )
