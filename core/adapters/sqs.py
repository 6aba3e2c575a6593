"""``TaskQueue`` on SQS."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from core.adapters.aws import LazyClient, aws_errors
from core.application.errors import DependencyUnavailable
from core.application.tasks import family_of
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


class QueueNotGranted(DependencyUnavailable):
    """A task of a family whose queue this function was not given: it may not
    submit that family's jobs (a function gets the queue URL of a family only with
    the permission to send to it)."""

    default_message = "this function may not queue this kind of task"


class SqsTaskQueue:
    """Sends one message per task to the queue of its job's family
    (``core.application.tasks.JOB_FAMILIES``); that family's worker consumes it.

    ``queue_urls`` maps a family to its queue's URL: only the families this
    function submits. Delivery is at least once: the task store's ``claim`` makes a
    repeat a no-op.
    """

    def __init__(
        self,
        queue_urls: Mapping[str, str],
        region: str,
        correlation: Callable[[], str | None] = lambda: None,
    ) -> None:
        # What the caller is doing now (its correlation id), for the worker's logs.
        self._correlation = correlation
        self._queue_urls = {f: url for f, url in queue_urls.items() if url}
        self._client = LazyClient("sqs", region, connect_timeout=5, read_timeout=10)

    def queue_url(self, task: Task) -> str:
        """The URL of the queue ``task`` goes to; ``QueueNotGranted`` if this
        function has none for its family."""
        family = family_of(task.name)
        url = self._queue_urls.get(family)
        if url is None:
            raise QueueNotGranted(
                f"no {family} task queue here: {task.name} cannot be queued"
            )
        return url

    def enqueue(self, task: Task) -> None:
        url = self.queue_url(task)
        with aws_errors():
            self._client.get().send_message(
                QueueUrl=url, MessageBody=task_message(task, self._correlation())
            )
