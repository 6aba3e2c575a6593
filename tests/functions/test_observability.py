"""What an operator reads: one JSON log line per record with the ids that tie a
request together, business counts in CloudWatch's embedded metric format, and no
secret of the request anywhere in the output."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from core.adapters.sqs import task_message
from core.application.tasks import EMAIL, USERS
from core.domain.task import Task, TaskStatus
from functions.workers import tasks as worker
from local.harness import FakeLambdaContext
from local.poller import lambda_event
from tests.functions.conftest import PASSWORD, Api, metric_counts

SECRET_PASSWORD = "correct-horse-SECRET-4711"
SECRET_COOKIE = "access_token=eyJSECRETCOOKIEVALUE"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:tasks"

email_worker = worker.handler_for(EMAIL)


def lines(output: str) -> list[dict[str, Any]]:
    """The JSON objects the handler wrote, one per line, as Lambda ships them."""
    found = []
    for line in output.splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def logs(output: str) -> list[dict[str, Any]]:
    return [line for line in lines(output) if "_aws" not in line]


def test_every_request_line_is_json_with_the_function_stage_and_request_ids(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    context = FakeLambdaContext(function_name="strata-dev-login")
    api.call(
        "login", json_body={"username": "nobody", "password": "x"}, context=context
    )

    (request,) = [
        line for line in logs(capsys.readouterr().out) if line["message"] == "request"
    ]
    assert request["level"] == "INFO"
    assert request["service"] == "strata"
    assert request["stage"]
    assert request["function_name"] == "strata-dev-login"
    assert request["function_request_id"] == context.aws_request_id
    assert request["api_request_id"]
    assert request["correlation_id"] == request["api_request_id"]
    assert request["route"] == "POST /api/v1/account/login"
    assert request["status"] == 401


def test_a_well_formed_client_correlation_id_is_used_and_answered_back(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = api.call("health", headers={"x-correlation-id": "checkout-7f3a9c01"})

    assert reply.headers["x-correlation-id"] == "checkout-7f3a9c01"
    (request,) = logs(capsys.readouterr().out)
    assert request["correlation_id"] == "checkout-7f3a9c01"


@pytest.mark.parametrize(
    "forged", ["short", "x" * 65, 'a"}\n{"level":"ERROR', "spaces are not allowed"]
)
def test_a_malformed_client_correlation_id_is_replaced_by_api_gateways(
    api: Api, capsys: pytest.CaptureFixture[str], forged: str
) -> None:
    reply = api.call("health", headers={"x-correlation-id": forged})

    (request,) = logs(capsys.readouterr().out)
    assert request["correlation_id"] == request["api_request_id"]
    assert reply.headers["x-correlation-id"] == request["api_request_id"]


def test_the_user_id_is_on_the_lines_of_an_authenticated_request(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    cookie = api.as_("jane.doe")
    user = api.container.users.get_by_username("jane.doe")
    capsys.readouterr()

    api.call("me", cookies=[cookie])

    (request,) = logs(capsys.readouterr().out)
    assert request["user_id"] == user.id


def test_a_password_or_cookie_sent_in_a_request_never_reaches_the_output(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    api.user("sam.lee", password=SECRET_PASSWORD)
    body = {"username": "sam.lee", "password": SECRET_PASSWORD}
    ok = api.call("login", json_body=body)
    api.call("login", json_body={**body, "password": SECRET_PASSWORD + "!"})
    api.call("me", cookies=[SECRET_COOKIE])
    token = ok.cookie("access_token")
    assert token

    output = capsys.readouterr().out
    assert len(logs(output)) >= 3
    assert SECRET_PASSWORD not in output
    assert SECRET_COOKIE.partition("=")[2] not in output
    assert token not in output


def test_log_ins_are_counted_by_outcome_in_embedded_metric_format(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    api.user("kim.park")
    api.call("login", json_body={"username": "kim.park", "password": "wrong-one"})
    api.call("login", json_body={"username": "kim.park", "password": PASSWORD})

    found = metric_counts(capsys.readouterr().out)
    assert found == {("LogInsFailed",): 1, ("LogIns",): 1}


def test_a_task_message_carries_the_correlation_id_of_the_request_that_queued_it() -> (
    None
):
    now = datetime.now(UTC)
    task = Task(
        id="t-1",
        name="send_email",
        owner_id=None,
        payload={},
        status=TaskStatus.QUEUED,
        attempts=0,
        created_at=now,
        updated_at=now,
        expires_at=now,
    )

    assert json.loads(task_message(task, "checkout-7f3a9c01"))["correlation_id"] == (
        "checkout-7f3a9c01"
    )
    assert "correlation_id" not in json.loads(task_message(task))


def sqs_event(*bodies: str, receive_count: int = 1) -> dict[str, Any]:
    """An SQS event as Lambda's event source mapping hands it to the worker."""
    received = [
        {
            "MessageId": f"m-{number}",
            "ReceiptHandle": f"r-{number}",
            "Body": body,
            "Attributes": {"ApproximateReceiveCount": str(receive_count)},
        }
        for number, body in enumerate(bodies)
    ]
    return lambda_event(received, QUEUE_ARN, "us-east-1")


def test_the_workers_lines_carry_the_correlation_id_from_the_message(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.dumps(
        {
            "task_id": "no-such-task",
            "name": "send_email",
            "correlation_id": "signup-0a1b2c3d",
        }
    )
    context = FakeLambdaContext(function_name="strata-dev-worker")

    email_worker(sqs_event(body), context)

    (line,) = logs(capsys.readouterr().out)
    assert line["correlation_id"] == "signup-0a1b2c3d"
    assert line["function_name"] == "strata-dev-worker"
    assert line["task_id"] == "no-such-task"


def test_a_message_without_a_correlation_id_gets_the_batchs_not_the_previous_ones(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    followed = json.dumps(
        {
            "task_id": "task-one",
            "name": "send_email",
            "correlation_id": "signup-0a1b2c3d",
        }
    )
    context = FakeLambdaContext()
    unfollowed = json.dumps({"task_id": "task-two", "name": "send_email"})

    email_worker(sqs_event(followed, unfollowed), context)

    first, second = logs(capsys.readouterr().out)
    assert first["task_id"] == "task-one"
    assert first["correlation_id"] == "signup-0a1b2c3d"
    assert (second["task_id"], second["correlation_id"]) == (
        "task-two",
        context.aws_request_id,
    )


def test_the_worker_counts_a_sent_email_and_a_task_that_succeeded(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"username": "lee.chan", "email": "lee@example.com", "password": PASSWORD}
    assert api.call("signup", json_body=body).status == 201
    (task,) = api.container.queue.queued
    capsys.readouterr()

    answer = email_worker(sqs_event(task_message(task)), FakeLambdaContext())

    assert answer == {"batchItemFailures": []}
    found = metric_counts(capsys.readouterr().out)
    assert found == {("TasksSucceeded",): 1, ("EmailsSent",): 1}


def test_an_attempt_that_fails_on_its_last_receive_is_counted_as_dead_lettered(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"username": "lee.chan", "email": "lee@example.com", "password": PASSWORD}
    assert api.call("signup", json_body=body).status == 201
    (task,) = api.container.queue.queued
    api.container.mailer.fail = RuntimeError("SES is down")
    last = api.container.settings.task_max_receives
    capsys.readouterr()

    email_worker(sqs_event(task_message(task)), FakeLambdaContext())
    last_receive = sqs_event(task_message(task), receive_count=last)
    email_worker(last_receive, FakeLambdaContext())

    found = metric_counts(capsys.readouterr().out)
    assert found == {("TaskAttemptsFailed",): 2, ("TasksDeadLettered",): 1}


def test_a_task_of_another_family_is_counted_as_refused_and_never_run(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"username": "lee.chan", "email": "lee@example.com", "password": PASSWORD}
    assert api.call("signup", json_body=body).status == 201
    (task,) = api.container.queue.queued
    capsys.readouterr()

    answer = worker.handler_for(USERS)(
        sqs_event(task_message(task)), FakeLambdaContext()
    )

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    out = capsys.readouterr().out
    assert metric_counts(out) == {("TasksRefused",): 1, ("TaskAttemptsFailed",): 1}
    refused = [line for line in logs(out) if line["message"].startswith("task refused")]
    assert [(r["family"], r["job_family"]) for r in refused] == [(USERS, "email")]
    assert api.container.mailer.sent == []
    stored = api.container.tasks.get(task.id)
    assert stored is not None
    assert (stored.status.value, stored.attempts) == ("queued", 0)
