"""The scheduler function: an EventBridge event names a job, which is submitted as
a task and run by the task worker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.application.tasks import JOB_FAMILIES, UnknownJob
from core.domain.task import TaskStatus
from core.domain.user import Email, Role, User, Username
from functions.catalog import WORKERS_BY_NAME
from functions.workers import scheduled
from local.harness import FakeLambdaContext
from tests.functions.mailbox import Worker

# The test looks at AWS state itself: the handlers run on moto.
pytestmark = pytest.mark.moto

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture
def worker(container: Any) -> Worker:
    return Worker(container.settings.email_task_queue_url)


def old_unverified_user(container: Any, name: str) -> User:
    created = datetime.now(UTC) - timedelta(
        days=container.settings.unverified_purge_days, hours=1
    )
    stored: User = container.users.add(
        User(
            id=f"id-{name}",
            username=Username(name),
            email=Email(f"{name}@example.com"),
            password_hash=container.hasher.hash("correct horse battery"),
            role=Role.USER,
            is_active=True,
            created_at=created,
        )
    )
    return stored


def test_the_sample_event_submits_the_purge_which_the_worker_then_runs(
    container: Any, worker: Worker
) -> None:
    doomed = old_unverified_user(container, "doomed01")
    event = json.loads((EVENTS / "schedule_purge_unverified.json").read_text())

    answer = scheduled.handler(event, FakeLambdaContext())

    assert answer["job"] == "purge_unverified"
    assert container.users.get(doomed.id) is not None  # nothing ran yet
    assert worker.drain() == 1
    assert container.users.get(doomed.id) is None
    task = container.tasks.get(answer["task_id"])
    assert task.status is TaskStatus.SUCCEEDED
    assert task.owner_id is None
    assert task.result == {"purged": 1}


def test_an_event_with_the_job_in_its_detail_is_read_too(container: Any) -> None:
    event = {"detail-type": "Scheduled Event", "detail": {"job": "purge_unverified"}}

    answer = scheduled.handler(event, FakeLambdaContext())

    assert container.tasks.get(answer["task_id"]).name == "purge_unverified"


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"job": "export_users"},
        {"job": "send_email"},
        {"job": 7},
        {"detail": "purge_unverified"},
        [],
    ],
)
def test_an_event_naming_no_scheduled_job_is_refused_and_queues_nothing(
    container: Any, worker: Worker, event: Any
) -> None:
    with pytest.raises(UnknownJob):
        scheduled.handler(event, FakeLambdaContext())

    assert worker.receive() == []


def test_the_catalog_lists_the_scheduler_with_only_what_submitting_needs() -> None:
    scheduler = WORKERS_BY_NAME["scheduler"]

    assert scheduler.module == scheduled.__name__
    assert scheduler.trigger == "schedule"
    # Submitting the purge (a users job) and the reconciliation (a billing job):
    # those two families' queues, not the email one.
    assert set(scheduler.permissions) == {"tasks:write", "queue:users", "queue:billing"}
    assert {JOB_FAMILIES[job] for job in scheduled.SCHEDULED_JOBS} == {
        "users",
        "billing",
    }
