"""``SqsTaskQueue`` against moto, and the adapters' lazy AWS clients."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.adapters.sqs import QueueNotGranted, SqsTaskQueue
from core.application.errors import DependencyUnavailable
from core.application.tasks import (
    FAMILIES,
    PURGE_UNVERIFIED,
    RECONCILE_SUBSCRIPTIONS,
    SEND_EMAIL,
    UnknownJob,
)
from core.domain.task import Task, TaskStatus
from tests.conftest import TaskResources, aws_client

NOW = datetime(2025, 1, 1, tzinfo=UTC)
TASK = Task(
    id="task01",
    name="export_users",
    owner_id="user01",
    payload={"key": "users/secret-name.csv"},
    status=TaskStatus.QUEUED,
    attempts=0,
    created_at=NOW,
    updated_at=NOW,
    expires_at=NOW + timedelta(days=1),
)


def test_a_task_is_one_message_naming_the_task_and_its_job_only(
    task_resources: TaskResources,
) -> None:
    SqsTaskQueue({"users": task_resources.queue_url}, "us-east-1").enqueue(TASK)

    received = aws_client("sqs").receive_message(
        QueueUrl=task_resources.queue_url, MaxNumberOfMessages=10
    )
    (message,) = received["Messages"]
    assert json.loads(message["Body"]) == {"task_id": "task01", "name": "export_users"}


def test_a_missing_queue_is_a_dependency_error(task_resources: TaskResources) -> None:
    url = task_resources.queue_url.rsplit("/", 1)[0] + "/strata-no-such-queue"

    with pytest.raises(DependencyUnavailable):
        SqsTaskQueue({"users": url}, "us-east-1").enqueue(TASK)


def test_an_unset_queue_url_is_a_dependency_error(tables: None) -> None:
    with pytest.raises(DependencyUnavailable):
        SqsTaskQueue({"users": ""}, "us-east-1").enqueue(TASK)


def test_each_task_goes_to_its_job_familys_queue_and_no_other(
    tables: None,
) -> None:
    sqs = aws_client("sqs")
    urls = {
        family: sqs.create_queue(QueueName=f"strata-local-routing-{family}")["QueueUrl"]
        for family in FAMILIES
    }
    queue = SqsTaskQueue(urls, "us-east-1")
    jobs = {"email": SEND_EMAIL, "users": PURGE_UNVERIFIED}
    jobs["billing"] = RECONCILE_SUBSCRIPTIONS

    for family, job in jobs.items():
        queue.enqueue(replace(TASK, id=f"task-{family}", name=job))

    for family, url in urls.items():
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        bodies = [json.loads(m["Body"]) for m in received.get("Messages", [])]
        assert bodies == [{"task_id": f"task-{family}", "name": jobs[family]}]


def test_a_function_without_a_familys_queue_cannot_queue_its_tasks(
    task_resources: TaskResources,
) -> None:
    """Sign-up holds the email queue only: a users task from it is refused before
    anything is sent, and nothing reaches any queue."""
    queue = SqsTaskQueue({"email": task_resources.queue_url}, "us-east-1")

    with pytest.raises(QueueNotGranted):
        queue.enqueue(replace(TASK, name=PURGE_UNVERIFIED))

    received = aws_client("sqs").receive_message(QueueUrl=task_resources.queue_url)
    assert received.get("Messages", []) == []


def test_a_job_of_no_family_is_never_queued(task_resources: TaskResources) -> None:
    queue = SqsTaskQueue({"email": task_resources.queue_url}, "us-east-1")

    with pytest.raises(UnknownJob):
        queue.enqueue(replace(TASK, name="drop_tables"))


def test_building_the_container_makes_no_aws_client(
    tables: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.session

    from functions.runtime.container import build_container
    from functions.runtime.settings import get_settings

    made: list[str] = []
    original = botocore.session.Session.create_client

    def spy(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        made.append(service_name)
        return original(self, service_name, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", spy)

    container = build_container(get_settings())
    assert made == []
    container.exports.link("users/x.csv", timedelta(minutes=1))
    assert made == ["s3"]
