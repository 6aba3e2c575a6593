"""The task Lambdas: an admin asks for an export (202 and a task to poll), and a
task is shown to its owner or an admin, to nobody else."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.adapters.dynamodb.models import TaskItem
from core.adapters.sqs import SqsTaskQueue
from core.domain.billing import SubscriptionStatus
from core.domain.task import TaskStatus
from core.domain.user import Role
from tests.conftest import TaskResources, aws_client
from tests.functions.conftest import Api, assert_problem

# The test looks at AWS state itself: the handlers run on moto.
pytestmark = pytest.mark.moto


def queued_messages(queue_url: str) -> list[dict[str, Any]]:
    received = aws_client("sqs").receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [json.loads(m["Body"]) for m in received.get("Messages", [])]


def export(api: Api, cookie: str) -> str:
    reply = api.call("export_users", cookies=[cookie])
    assert reply.status == 202, reply.text
    return str(reply.json()["task_id"])


# -- POST /api/v1/users/export ---------------------------------------------------------


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPER_ADMIN])
def test_an_admin_asks_for_an_export_and_gets_202_with_a_queued_task(
    api: Api, task_resources: TaskResources, role: Role
) -> None:
    admin = api.as_("admin01", role, plan="pro")

    reply = api.call("export_users", cookies=[admin])

    assert reply.status == 202, reply.text
    body = reply.json()
    assert set(body) == {"task_id", "status"}
    assert body["status"] == "queued"
    assert reply.headers["location"] == f"/api/v1/tasks/{body['task_id']}"
    assert reply.headers["cache-control"] == "no-store"
    task = api.container.tasks.get(body["task_id"])
    assert task is not None
    assert task.name == "export_users"
    assert task.owner_id == api.container.users.get_by_username("admin01").id
    assert task.payload["key"].startswith("users/")
    # The request's correlation id rides along, for the worker's log lines.
    assert queued_messages(task_resources.queue_url) == [
        {
            "task_id": body["task_id"],
            "name": "export_users",
            "correlation_id": reply.headers["x-correlation-id"],
        }
    ]


def test_a_plain_user_may_not_export_and_nothing_is_queued(
    api: Api, task_resources: TaskResources
) -> None:
    # On a plan with the feature: the refusal is about the role.
    user = api.as_("alice01", plan="pro")

    reply = api.call("export_users", cookies=[user])

    assert_problem(reply, 403, "forbidden")
    assert queued_messages(task_resources.queue_url) == []


@pytest.mark.parametrize("plan", [None, "free-after-cancel"])
def test_an_admin_whose_plan_lacks_the_export_gets_402_naming_the_plans_with_it(
    api: Api, task_resources: TaskResources, plan: str | None
) -> None:
    cookie = api.as_("admin01", Role.ADMIN)
    if plan is not None:
        # A subscription that ended: back on free.
        admin = api.container.users.get_by_username("admin01")
        api.subscribe(admin, "pro", SubscriptionStatus.CANCELED)

    reply = api.call("export_users", cookies=[cookie])

    body = assert_problem(reply, 402, "plan_required")
    assert body["plans"] == ["pro", "business"]
    assert queued_messages(task_resources.queue_url) == []


def test_an_anonymous_export_request_is_401(
    api: Api, task_resources: TaskResources
) -> None:
    assert_problem(api.call("export_users"), 401, "not_authenticated")
    assert queued_messages(task_resources.queue_url) == []


def test_a_queue_that_cannot_be_reached_is_503_and_the_task_says_failed(
    api: Api, task_resources: TaskResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = api.as_("admin01", Role.ADMIN, plan="pro")
    gone = task_resources.queue_url.rsplit("/", 1)[0] + "/strata-no-such-queue"
    monkeypatch.setattr(
        api.container, "queue", SqsTaskQueue({"users": gone}, "us-east-1")
    )

    reply = api.call("export_users", cookies=[admin])

    assert_problem(reply, 503, "dependency_unavailable")
    # The answer names no task; the test looks at the whole (one-item) table.
    (item,) = list(TaskItem.scan())
    assert item.status == TaskStatus.FAILED.value


# -- GET /api/v1/tasks/{task_id} -------------------------------------------------------


def test_the_owner_reads_their_task(api: Api) -> None:
    admin = api.as_("admin01", Role.ADMIN, plan="pro")
    task_id = export(api, admin)

    reply = api.call("get_task", f"/api/v1/tasks/{task_id}", cookies=[admin])

    assert reply.status == 200, reply.text
    body = reply.json()
    assert body == {
        "id": task_id,
        "name": "export_users",
        "status": "queued",
        "attempts": 0,
        "result": None,
        "error": None,
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }
    assert reply.headers["cache-control"] == "no-store"


def test_another_admin_reads_the_task_too(api: Api) -> None:
    task_id = export(api, api.as_("admin01", Role.ADMIN, plan="pro"))
    other = api.as_("admin02", Role.ADMIN, plan="pro")

    reply = api.call("get_task", f"/api/v1/tasks/{task_id}", cookies=[other])

    assert reply.status == 200, reply.text
    assert reply.json()["id"] == task_id


def test_a_plain_user_is_told_someone_elses_task_does_not_exist(api: Api) -> None:
    task_id = export(api, api.as_("admin01", Role.ADMIN, plan="pro"))
    user = api.as_("alice01")

    theirs = api.call("get_task", f"/api/v1/tasks/{task_id}", cookies=[user])
    unknown = api.call("get_task", f"/api/v1/tasks/{'0' * 32}", cookies=[user])

    assert_problem(theirs, 404, "task_not_found")
    assert_problem(unknown, 404, "task_not_found")
    assert theirs.json() == unknown.json()


def test_an_anonymous_task_read_is_401(api: Api) -> None:
    task_id = export(api, api.as_("admin01", Role.ADMIN, plan="pro"))

    reply = api.call("get_task", f"/api/v1/tasks/{task_id}")

    assert_problem(reply, 401, "not_authenticated")


def test_a_task_id_too_long_to_be_one_is_422(api: Api) -> None:
    admin = api.as_("admin01", Role.ADMIN, plan="pro")

    reply = api.call("get_task", f"/api/v1/tasks/{'x' * 65}", cookies=[admin])

    assert_problem(reply, 422, "invalid_input")
