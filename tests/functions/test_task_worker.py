"""The task workers' Lambda on a real (moto) SQS queue with a dead letter queue.

Messages are received in batches and handed to a family's worker handler
(``functions.workers.tasks.handler_for``; the email family's unless a test says)
as Lambda's event source does it (``local.poller``): what the handler reports in
``batchItemFailures`` stays on the queue, everything else is deleted.
"""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

import pytest

from core.adapters.dynamodb import shards
from core.application import tasks
from core.application.jobs import InvalidPayload
from core.application.tasks import EMAIL, USERS, JobRegistry
from core.domain.task import Task, TaskStatus
from core.domain.user import Role
from functions.catalog import WORKERS, WORKERS_BY_NAME
from functions.workers import tasks as worker
from local.harness import FakeLambdaContext
from local.poller import QueuePoller, lambda_event
from tests.conftest import (
    DynamoCalls,
    TaskResources,
    aws_client,
    create_task_resources,
)
from tests.functions.conftest import PASSWORD, Api
from tools.export_run import seed_users

# The test looks at AWS state itself: the handlers run on moto.
pytestmark = pytest.mark.moto

MAX_RECEIVES = 3
REGION = "us-east-1"
email_handler = worker.handler_for(EMAIL)


@dataclass
class Worker:
    """The worker Lambda behind a queue: ``drain`` runs it until the queue is empty,
    and keeps each batch's message ids and the handler's answers."""

    container: Any
    resources: TaskResources
    batches: list[list[str]] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)
    # Whose worker the queue feeds.
    family: str = EMAIL

    @property
    def sqs(self) -> Any:
        return aws_client("sqs")

    def handler(self, event: dict[str, Any], context: Any) -> Any:
        self.batches.append([r["messageId"] for r in event["Records"]])
        answer = worker.handler_for(self.family)(event, context)
        self.answers.append(answer)
        return answer

    def poller(self) -> QueuePoller:
        arn = self.sqs.get_queue_attributes(
            QueueUrl=self.resources.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        return QueuePoller(
            self.sqs,
            self.resources.queue_url,
            arn,
            REGION,
            load_handler=lambda: self.handler,
            make_context=FakeLambdaContext,
            wait_seconds=1,
        )

    def waiting(self, queue_url: str | None = None) -> int:
        """Messages on the queue, visible or in flight."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url or self.resources.queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def drain(self, timeout: float = 30.0) -> None:
        poller = self.poller()
        deadline = time.monotonic() + timeout
        while self.waiting():
            assert time.monotonic() < deadline, "the queue never emptied"
            poller.poll_once()

    def dead_letters(self) -> list[dict[str, Any]]:
        received = self.sqs.receive_message(
            QueueUrl=self.resources.dead_letter_url, MaxNumberOfMessages=10
        )
        return [json.loads(m["Body"]) for m in received.get("Messages", [])]

    def submit(self, name: str, payload: Mapping[str, Any]) -> Task:
        task: Task = self.container.submitter().submit(name, payload, owner_id=None)
        return task

    def task(self, task_id: str) -> Task:
        task: Task | None = self.container.tasks.get(task_id)
        assert task is not None
        return task


@pytest.fixture
def task_worker(tables: None) -> Iterator[Worker]:
    """The worker's container on a queue that redrives to its dead letter queue
    after ``MAX_RECEIVES`` receives, with a one-second visibility timeout (and
    lease) so that retries come quickly."""
    from functions.runtime.container import build_container, use_container
    from functions.runtime.settings import get_settings

    resources = create_task_resources(
        suffix="-worker", visibility_timeout=1, max_receives=MAX_RECEIVES
    )
    settings = get_settings().model_copy(
        update={
            **resources.settings(),
            "task_max_receives": MAX_RECEIVES,
            "task_lease_seconds": 1,
        }
    )
    container = build_container(settings)
    use_container(container)
    yield Worker(container, resources)
    use_container(None)


@dataclass
class Jobs:
    """A job that counts its runs per payload ``n``, and one that always fails (both
    of the email family), and one of the users family that counts its runs."""

    runs: Counter[Any] = field(default_factory=Counter)

    def count(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        self.runs[payload["n"]] += 1
        return {"n": payload["n"]}

    def poison(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        self.runs["poison"] += 1
        raise InvalidPayload("this payload can never work")

    def purge(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        self.runs["purge"] += 1
        return {}


@dataclass(frozen=True)
class AsJob:
    run: Any  # the job's run, as a plain function


@pytest.fixture
def jobs(task_worker: Worker, monkeypatch: pytest.MonkeyPatch) -> Jobs:
    made = Jobs()
    registry = JobRegistry(
        {
            "count": AsJob(made.count),
            "poison": AsJob(made.poison),
            "purge": AsJob(made.purge),
        }
    )
    monkeypatch.setattr(task_worker.container, "registry", lambda: registry)
    for name, family in (("count", EMAIL), ("poison", EMAIL), ("purge", USERS)):
        monkeypatch.setitem(tasks.JOB_FAMILIES, name, family)
    return made


def test_good_messages_run_once_and_a_poison_one_ends_in_the_dead_letter_queue(
    task_worker: Worker, jobs: Jobs
) -> None:
    good = [task_worker.submit("count", {"n": n}) for n in range(2)]
    poison = task_worker.submit("poison", {"n": "p"})
    good += [task_worker.submit("count", {"n": n}) for n in range(2, 4)]

    task_worker.drain()

    # The first batch held all five; only the poison message was reported.
    assert len(task_worker.batches[0]) == 5
    (failure,) = task_worker.answers[0]["batchItemFailures"]
    assert failure["itemIdentifier"] in task_worker.batches[0]
    assert jobs.runs == {0: 1, 1: 1, 2: 1, 3: 1, "poison": MAX_RECEIVES}
    for task in good:
        done = task_worker.task(task.id)
        assert (done.status, done.attempts) == (TaskStatus.SUCCEEDED, 1)
        assert done.result == {"n": task.payload["n"]}
    failed = task_worker.task(poison.id)
    assert failed.status is TaskStatus.FAILED
    assert failed.error == "this payload can never work"
    assert failed.attempts == MAX_RECEIVES
    assert task_worker.dead_letters() == [{"task_id": poison.id, "name": "poison"}]


def test_every_receive_of_the_poison_message_but_the_last_puts_the_task_back(
    task_worker: Worker, jobs: Jobs
) -> None:
    poison = task_worker.submit("poison", {"n": "p"})
    poller = task_worker.poller()
    seen: list[TaskStatus] = []
    deadline = time.monotonic() + 30

    while jobs.runs["poison"] < MAX_RECEIVES:
        assert time.monotonic() < deadline
        before = jobs.runs["poison"]
        poller.poll_once()
        if jobs.runs["poison"] > before:
            seen.append(task_worker.task(poison.id).status)

    assert seen == [TaskStatus.QUEUED] * (MAX_RECEIVES - 1) + [TaskStatus.FAILED]


def test_the_same_task_queued_twice_runs_once_and_both_messages_are_done(
    task_worker: Worker, jobs: Jobs
) -> None:
    task = task_worker.submit("count", {"n": 1})
    task_worker.container.queue.enqueue(task)

    task_worker.drain()

    assert jobs.runs == {1: 1}
    assert all(answer["batchItemFailures"] == [] for answer in task_worker.answers)
    assert task_worker.task(task.id).attempts == 1
    assert task_worker.dead_letters() == []


def test_a_message_delivered_again_after_its_run_does_nothing_the_second_time(
    task_worker: Worker, jobs: Jobs
) -> None:
    task = task_worker.submit("count", {"n": 7})
    sqs = task_worker.sqs
    url = task_worker.resources.queue_url

    first = sqs.receive_message(
        QueueUrl=url, MessageSystemAttributeNames=["All"], WaitTimeSeconds=1
    )["Messages"]
    answer = email_handler(lambda_event(first, "arn", REGION), FakeLambdaContext())
    assert answer["batchItemFailures"] == []
    # The delete is lost (the worker timed out, say): SQS delivers the message again.
    again = sqs.receive_message(
        QueueUrl=url, MessageSystemAttributeNames=["All"], WaitTimeSeconds=5
    )["Messages"]
    assert again[0]["MessageId"] == first[0]["MessageId"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"
    second = email_handler(lambda_event(again, "arn", REGION), FakeLambdaContext())

    assert second["batchItemFailures"] == []
    assert jobs.runs == {7: 1}
    assert task_worker.task(task.id).status is TaskStatus.SUCCEEDED


def test_a_task_whose_worker_died_is_run_by_the_redelivery_once_its_lease_is_over(
    task_worker: Worker, jobs: Jobs
) -> None:
    task = task_worker.submit("count", {"n": 3})
    sqs = task_worker.sqs
    # A worker receives the message, claims the task, and dies before finishing.
    sqs.receive_message(QueueUrl=task_worker.resources.queue_url)
    container = task_worker.container
    lease = container.run_task(EMAIL).lease
    assert container.tasks.claim(task.id, container.clock.now(), lease) is not None

    task_worker.drain()

    done = task_worker.task(task.id)
    assert (done.status, done.attempts) == (TaskStatus.SUCCEEDED, 2)
    assert jobs.runs == {3: 1}


def test_a_message_that_names_no_task_is_reported_and_ends_in_the_dead_letter_queue(
    task_worker: Worker, jobs: Jobs
) -> None:
    task_worker.sqs.send_message(
        QueueUrl=task_worker.resources.queue_url, MessageBody="not json"
    )
    good = task_worker.submit("count", {"n": 5})

    task_worker.drain()

    assert jobs.runs == {5: 1}
    assert task_worker.task(good.id).status is TaskStatus.SUCCEEDED
    received = task_worker.sqs.receive_message(
        QueueUrl=task_worker.resources.dead_letter_url
    )
    assert [m["Body"] for m in received["Messages"]] == ["not json"]


def test_the_handler_reports_each_failed_record_of_a_batch_by_its_message_id(
    task_worker: Worker, jobs: Jobs
) -> None:
    good = task_worker.submit("count", {"n": 1})
    records = [
        {
            "MessageId": "m-good",
            "ReceiptHandle": "r1",
            "Body": json.dumps({"task_id": good.id, "name": "count"}),
            "Attributes": {"ApproximateReceiveCount": "1"},
        },
        {
            "MessageId": "m-bad",
            "ReceiptHandle": "r2",
            "Body": "{}",
            "Attributes": {"ApproximateReceiveCount": "1"},
        },
    ]

    answer = email_handler(lambda_event(records, "arn", REGION), FakeLambdaContext())

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}
    assert jobs.runs == {1: 1}


@pytest.mark.parametrize("family", tasks.FAMILIES)
def test_each_familys_sample_sqs_event_reaches_its_worker(
    task_worker: Worker, family: str
) -> None:
    from pathlib import Path

    events = Path(__file__).resolve().parents[2] / "events"
    path = events / f"sqs_{family}_task.json"
    event = json.loads(path.read_text(encoding="utf-8"))
    (worker_entry,) = [w for w in WORKERS if w.family == family]

    answer = import_module(worker_entry.module).handler(event, FakeLambdaContext())

    # No such task in a fresh table: a duplicate-like no-op, not a failure.
    assert answer == {"batchItemFailures": []}


# -- one worker per job family ---------------------------------------------------------


def test_a_worker_refuses_a_task_of_another_family_to_its_dead_letter_queue(
    task_worker: Worker, jobs: Jobs, caplog: pytest.LogCaptureFixture
) -> None:
    """A users task on the email worker's queue (a routing bug, a hand-sent
    message): the email worker never runs it, whatever the number of receives;
    the message ends in the dead letter queue and the task waits, untouched, for
    an operator to move the message to the users queue."""
    misrouted = task_worker.submit("purge", {})
    good = task_worker.submit("count", {"n": 1})

    with caplog.at_level("ERROR", logger="strata.worker"):
        task_worker.drain()

    assert jobs.runs == {1: 1}
    assert task_worker.dead_letters() == [{"task_id": misrouted.id, "name": "purge"}]
    waiting = task_worker.task(misrouted.id)
    assert (waiting.status, waiting.attempts) == (TaskStatus.QUEUED, 0)
    assert task_worker.task(good.id).status is TaskStatus.SUCCEEDED
    refusals = [r for r in caplog.records if r.getMessage().startswith("task refused")]
    assert len(refusals) == MAX_RECEIVES
    assert {(r.family, r.job_family, r.task) for r in refusals} == {  # type: ignore[attr-defined]
        (EMAIL, USERS, "purge")
    }


def test_a_message_that_lies_about_its_job_cannot_run_another_familys_job(
    task_worker: Worker, jobs: Jobs
) -> None:
    """The message says an email job; the task it names is a users job. The email
    worker's registry holds only email jobs, so the task fails, unrun."""
    task = task_worker.submit("purge", {})
    task_worker.sqs.purge_queue(QueueUrl=task_worker.resources.queue_url)
    task_worker.sqs.send_message(
        QueueUrl=task_worker.resources.queue_url,
        MessageBody=json.dumps({"task_id": task.id, "name": "count"}),
    )

    task_worker.drain()

    assert jobs.runs == {}
    failed = task_worker.task(task.id)
    assert failed.status is TaskStatus.FAILED
    assert "purge" in (failed.error or "")


def test_the_users_worker_runs_users_tasks(task_worker: Worker, jobs: Jobs) -> None:
    task = task_worker.submit("purge", {})
    task_worker.family = USERS

    task_worker.drain()

    assert jobs.runs == {"purge": 1}
    assert task_worker.task(task.id).status is TaskStatus.SUCCEEDED


# -- the export, end to end ------------------------------------------------------------


def test_an_export_of_many_pages_on_every_shard_holds_each_user_exactly_once(
    task_worker: Worker,
) -> None:
    task_worker.family = USERS
    # About four pages of the job's 100 on each of the 4 shards: what exactly-once
    # is about. (3,000 took four times as long: moto's Query reads every item.)
    seeded = seed_users(1500)
    api = Api(task_worker.container)
    admin_cookie = api.as_("admin01", Role.ADMIN, plan="pro")
    admin = task_worker.container.users.get_by_username("admin01")

    accepted = api.call("export_users", cookies=[admin_cookie])
    assert accepted.status == 202, accepted.text
    task_id = accepted.json()["task_id"]
    task_worker.drain(timeout=120)
    reply = api.call("get_task", f"/api/v1/tasks/{task_id}", cookies=[admin_cookie])

    assert reply.status == 200, reply.text
    body = reply.json()
    assert body["status"] == "succeeded", body
    result = body["result"]
    # Loopback moto only: the link points at the test's own server.
    with urllib.request.urlopen(result["url"]) as response:  # noqa: S310
        data = response.read()
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) == 1501
    assert set(ids) == {*seeded, admin.id}
    assert result["rows"] == 1501
    assert result["bytes"] == len(data)
    assert set(rows[0]) == {
        "id",
        "username",
        "email",
        "role",
        "is_active",
        "email_verified",
        "created_at",
    }


def test_an_export_touches_only_what_the_workers_catalog_permissions_allow(
    task_worker: Worker, dynamo_calls: DynamoCalls
) -> None:
    task_worker.family = USERS
    seed_users(150)
    admin = task_worker.container.create_super_admin().execute(
        "root0001", "root0001@example.com", PASSWORD
    )
    task = task_worker.container.request_export().execute(admin)
    dynamo_calls.reset()
    s3: Counter[str] = Counter()

    def count_s3(model: Any, **_: Any) -> None:
        s3[model.name] += 1

    client = task_worker.container.exports._client.get()
    client.meta.events.register("before-call.s3", count_s3)
    try:
        task_worker.drain()
    finally:
        client.meta.events.unregister("before-call.s3", count_s3)

    settings = task_worker.container.settings
    alias = {settings.users_table: "users", settings.tasks_table: "tasks"}
    used = {
        f"{alias[table]}:{'read' if op in ('GetItem', 'Query') else 'write'}"
        for op, table in dynamo_calls.tables
    }
    # Claim and finish are conditional updates; the users are two pages of the
    # sharded listing: one Query per shard, then one per shard not yet done.
    assert dynamo_calls.counts["UpdateItem"] == 2
    assert shards.count() < dynamo_calls.counts["Query"] <= 2 * shards.count()
    assert set(dynamo_calls.counts) == {"UpdateItem", "Query"}
    assert used == {"tasks:write", "users:read"}
    # The file is one PutObject; the link is signed without a call (exports:read).
    assert dict(s3) == {"PutObject": 1}
    assert {*used, "exports:write", "exports:read"} <= set(
        WORKERS_BY_NAME["users_worker"].permissions
    )
    assert task_worker.task(task.id).status is TaskStatus.SUCCEEDED
