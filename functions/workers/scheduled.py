"""The scheduler: an EventBridge rule's event names a job, and this submits it.

The rule's constant input is the event, ``{"job": "purge_unverified"}`` (see
``functions.resources.SCHEDULES``); an event that carries it in ``detail`` instead
is read too. The job is not run here: it is submitted as a task, so it runs on the
worker like any other, with its retries, its dead letter queue and a record of how
it went. Only jobs meant to run on a timetable may be named.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from core.application.tasks import PURGE_UNVERIFIED, RECONCILE_SUBSCRIPTIONS, UnknownJob
from functions.runtime.container import get_container
from functions.runtime.observability import invocation
from functions.runtime.startup import prepare_worker

logger = logging.getLogger("strata")

SCHEDULED_JOBS = frozenset({PURGE_UNVERIFIED, RECONCILE_SUBSCRIPTIONS})


def job_of(event: Any) -> str:
    """The name of the job ``event`` asks for; ``UnknownJob`` unless it is one of
    the scheduled jobs."""
    job = None
    if isinstance(event, Mapping):
        job = event.get("job")
        detail = event.get("detail")
        if job is None and isinstance(detail, Mapping):
            job = detail.get("job")
    if not isinstance(job, str) or job not in SCHEDULED_JOBS:
        raise UnknownJob(f"not a scheduled job: {job!r}")
    return job


def handler(event: Any, context: Any) -> dict[str, str]:
    with invocation(context, None):
        job = job_of(event)
        task = get_container().submitter().submit(job, {}, owner_id=None)
        logger.info("scheduled job submitted", extra={"job": job, "task_id": task.id})
        return {"job": job, "task_id": task.id}


# In Lambda, init builds the container and the queue's client.
prepare_worker(__name__)
