"""The task workers: each runs the background tasks of one job family, which its
family's queue delivers (``core.application.tasks.JOB_FAMILIES``).

There is one worker per family, each a function of its own with only its
family's permissions (``functions.catalog.WORKERS``), so the email jobs' worker
cannot delete users nor call Stripe. A message naming a job of another family is
refused, never run: it fails each receive with an error in the logs, and so ends
in the family's dead letter queue, where the alarm pages and an operator can move
it to the right queue. The task record is left as it was; the family's registry
knows only its own jobs, so even a message that lied about its job cannot run
another family's.

SQS hands the function a batch of messages; each names one task. Powertools'
batch processor runs them one by one and answers with the ones that failed
(``batchItemFailures``), so SQS retries only those: one bad message never makes the
others run again. A message that keeps failing goes to the dead letter queue after
the queue's ``maxReceiveCount`` receives; ``RunTask`` marks its task ``failed`` on
that last receive. A message delivered twice runs its task once: the task store's
claim turns the second delivery into a no-op.

In Lambda, importing a family's module (``functions/workers/<family>_tasks.py``,
each naming its ``handler_for``) builds the container and the AWS clients of that
worker's permissions (``functions.runtime.startup``); elsewhere the first message
does.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from core.application.tasks import EMAIL, JOB_FAMILIES
from core.domain.task import TaskStatus
from functions.resources import (
    EMAILS_REFUSED,
    EMAILS_SENT,
    TASK_ATTEMPTS_FAILED,
    TASKS_DEAD_LETTERED,
    TASKS_FAILED,
    TASKS_REFUSED,
    TASKS_SUCCEEDED,
)
from functions.runtime.container import get_container
from functions.runtime.observability import correlation_id, count, invocation
from functions.runtime.observability import logger as json_logger

logger = logging.getLogger("strata.worker")

Handler = Callable[[dict[str, Any], Any], PartialItemFailureResponse]


class BadMessage(ValueError):
    """A message that names no task: retried like any failure, so that it ends up
    in the dead letter queue where someone can look at it."""


class WrongFamily(ValueError):
    """A message for another family's worker (or naming no known job): refused
    like a bad message, so that it ends up in this family's dead letter queue."""


def _message(body: str) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except ValueError:
        raise BadMessage("the message body is not JSON") from None
    return message if isinstance(message, dict) else {}


def task_id_of(message: dict[str, Any]) -> str:
    task_id = message.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        raise BadMessage("the message names no task_id")
    return task_id


def job_of(message: dict[str, Any]) -> str:
    name = message.get("name")
    if not isinstance(name, str) or not name:
        raise BadMessage("the message names no job")
    return name


def _follow(message: dict[str, Any]) -> None:
    """The correlation id of the request that queued the task, on this record's
    lines (``run_record`` first puts back the batch's: the logger's keys outlive a
    record, and the previous record's must not stay on the next one's)."""
    correlation = message.get("correlation_id")
    if isinstance(correlation, str) and correlation:
        json_logger.append_keys(correlation_id=correlation[:64])


def run_record(record: SQSRecord, family: str) -> None:
    """Run the task one message names on ``family``'s worker; raising reports the
    message as failed."""
    receive_count = int(record.attributes.approximate_receive_count or 1)
    context: dict[str, Any] = {
        "message_id": record.message_id,
        "receive_count": receive_count,
        "family": family,
    }
    json_logger.append_keys(correlation_id=correlation_id())
    container = get_container()
    started = time.monotonic()
    try:
        message = _message(record.body)
        _follow(message)
        task_id = task_id_of(message)
        context["task_id"] = task_id
        job = job_of(message)
        context["task"] = job
        _check_family(job, family, context)
        task = container.run_task(family).execute(task_id, receive_count)
    except Exception:
        context["duration_ms"] = _since(started)
        logger.exception("task attempt failed", extra=context)
        count(TASK_ATTEMPTS_FAILED)
        if receive_count >= container.settings.task_max_receives:
            count(TASKS_DEAD_LETTERED)
        raise
    if task is None:
        logger.info("duplicate delivery: the task is done or held", extra=context)
        return
    logger.info(
        "task attempt ended",
        extra={
            **context,
            "task": task.name,
            "status": task.status.value,
            "duration_ms": _since(started),
        },
    )
    succeeded = task.status is TaskStatus.SUCCEEDED
    count(TASKS_SUCCEEDED if succeeded else TASKS_FAILED)
    if family == EMAIL:
        count(EMAILS_SENT if succeeded else EMAILS_REFUSED)


def _check_family(job: str, family: str, context: dict[str, Any]) -> None:
    """Refuse a job of another family before anything of it runs."""
    belongs = JOB_FAMILIES.get(job)
    if belongs == family:
        return
    logger.error(
        "task refused: its job belongs to another worker",
        extra={**context, "job_family": belongs or "none"},
    )
    count(TASKS_REFUSED)
    raise WrongFamily(
        f"{job!r} is a job of the {belongs or 'no'} family, and this is the "
        f"{family} worker: refused, not run"
    )


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def handler_for(family: str) -> Handler:
    """The Lambda handler of ``family``'s worker."""
    # Every message's outcome is in the answer, even when all of a batch failed:
    # raising instead would only retry the same messages, and hide which ones.
    processor = BatchProcessor(
        event_type=EventType.SQS, raise_on_entire_batch_failure=False
    )

    def run(record: SQSRecord) -> None:
        run_record(record, family)

    def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
        with invocation(context, None):
            return process_partial_response(
                event=event, record_handler=run, processor=processor, context=context
            )

    return handler
