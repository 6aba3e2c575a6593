"""The local stack's jobs side: the task queues (one per job family), bucket and
email identity made in moto from ``functions.resources``, and the poller that plays
the SQS event source.

The poller is tested here against a stub handler; the real worker runs behind it
in the e2e tests (tests/e2e/test_jobs_and_email.py).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from functions.catalog import WORKERS
from functions.resources import (
    EMAIL,
    EXPORTS_BUCKET,
    LOCAL_PREFIX,
    SCHEDULES,
    TASK_FAMILIES,
    TASK_MAX_RECEIVES,
    TASK_QUEUES,
    TASK_WORKER_TIMEOUT_SECONDS,
)
from functions.runtime.settings import Settings, get_settings
from local import resources
from local.cli import main
from local.poller import QueuePoller, failed_ids, lambda_event

REGION = "us-east-1"
EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.fixture
def empty_moto(moto_endpoint: str) -> str:
    httpx.post(f"{moto_endpoint}/moto-api/reset", trust_env=False).raise_for_status()
    return moto_endpoint


@pytest.fixture
def created(empty_moto: str) -> resources.LocalResources:
    return resources.create_resources(REGION)


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """Commands under test may reload the settings: drop what they cached."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _send(queue_url: str, *bodies: str) -> None:
    sqs = resources.client("sqs", REGION)
    for body in bodies:
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)


def _count(queue_url: str) -> tuple[int, int]:
    """(visible, in flight) messages."""
    attributes = resources.client("sqs", REGION).get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
        ],
    )["Attributes"]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


class StubWorker:
    """Stands in for a task worker's handler: records each event and fails
    the messages whose body says so (or raises, when told to)."""

    def __init__(self, raises: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self.raises = raises

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        if self.raises:
            raise RuntimeError("the worker blew up")
        return {
            "batchItemFailures": [
                {"itemIdentifier": record["messageId"]}
                for record in event["Records"]
                if record["body"] == "fail"
            ]
        }


def _poller(
    created: resources.LocalResources, handler: StubWorker, **kwargs: Any
) -> QueuePoller:
    queue = created.queue("email")
    return QueuePoller(
        resources.client("sqs", REGION),
        queue.url,
        queue.arn,
        REGION,
        load_handler=lambda: handler,
        make_context=lambda: "context",
        **kwargs,
    )


# --- one source of truth ----------------------------------------------------------


def test_the_settings_defaults_name_the_local_resources() -> None:
    defaults = Settings()

    assert defaults.task_max_receives == TASK_MAX_RECEIVES
    assert defaults.task_lease_seconds == TASK_WORKER_TIMEOUT_SECONDS
    assert defaults.exports_bucket == EXPORTS_BUCKET.name(LOCAL_PREFIX)
    assert defaults.email_from == EMAIL.sender(EMAIL.local_domain)
    for queue in TASK_QUEUES.values():
        assert queue.visibility_timeout_seconds >= 6 * queue.worker_timeout_seconds
        assert queue.lease_seconds == defaults.task_lease_seconds
    # A setting per family's queue, and the families are the application's.
    from core.application.tasks import FAMILIES

    urls = {f"{family}_task_queue_url": f"url-{family}" for family in FAMILIES}
    assert Settings.model_validate(urls).task_queue_urls() == {
        f: f"url-{f}" for f in FAMILIES
    }
    assert set(TASK_FAMILIES) == set(FAMILIES)
    assert {s.job for s in SCHEDULES} == {"purge_unverified", "reconcile_subscriptions"}


# --- creating the resources ---------------------------------------------------------


@pytest.mark.parametrize("family", TASK_FAMILIES)
def test_each_familys_queue_redrives_to_its_dead_letter_queue_after_max_receives(
    created: resources.LocalResources, family: str
) -> None:
    sqs = resources.client("sqs", REGION)
    queue, spec = created.queue(family), TASK_QUEUES[family]
    attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])[
        "Attributes"
    ]
    dead_arn = sqs.get_queue_attributes(
        QueueUrl=queue.dead_letter_url, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]

    assert queue.url.endswith("/" + spec.name(LOCAL_PREFIX))
    assert queue.dead_letter_url.endswith("/" + spec.dead_letter_name(LOCAL_PREFIX))
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dead_arn,
        "maxReceiveCount": spec.max_receives,
    }
    assert int(attributes["VisibilityTimeout"]) == spec.visibility_timeout_seconds


def test_the_bucket_is_private_and_expires_exports(
    created: resources.LocalResources,
) -> None:
    s3 = resources.client("s3", REGION)

    assert created.bucket == EXPORTS_BUCKET.name(LOCAL_PREFIX)
    block = s3.get_public_access_block(Bucket=created.bucket)
    assert all(block["PublicAccessBlockConfiguration"].values())
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=created.bucket)["Rules"]
    assert rule["Expiration"]["Days"] == EXPORTS_BUCKET.expire_days


def test_the_sender_is_verified_so_ses_accepts_mail_from_it(
    created: resources.LocalResources,
) -> None:
    ses = resources.client("sesv2", REGION)

    assert created.sender == "Strata <no-reply@strata.local>"
    sent = ses.send_email(
        FromEmailAddress=created.sender,
        Destination={"ToAddresses": ["someone@example.com"]},
        Content={
            "Simple": {
                "Subject": {"Data": "hello"},
                "Body": {"Text": {"Data": "hello"}},
            }
        },
        ConfigurationSetName=created.configuration_set,
    )
    assert sent["MessageId"]


def test_a_sender_of_another_domain_is_verified_too(empty_moto: str) -> None:
    sender, _ = resources.create_email_identity(REGION, sender="Me <me@mine.test>")
    names = {
        i["IdentityName"]
        for i in resources.client("sesv2", REGION).list_email_identities()[
            "EmailIdentities"
        ]
    }

    assert sender == "Me <me@mine.test>"
    assert names == {EMAIL.local_domain, "me@mine.test"}


def test_creating_the_resources_again_changes_nothing(
    created: resources.LocalResources,
) -> None:
    again = resources.create_resources(REGION)

    assert again == created
    assert again.environment() == created.environment()
    for family in TASK_FAMILIES:
        variable = f"STRATA_{family.upper()}_TASK_QUEUE_URL"
        assert created.environment()[variable] == created.queue(family).url


def test_the_outbox_defaults_to_the_repository_and_can_be_moved(
    tmp_path: Path,
) -> None:
    env: dict[str, str] = {"STRATA_OUTBOX_DIR": str(tmp_path / "mail")}

    assert resources.use_outbox(env) == tmp_path / "mail"
    assert (tmp_path / "mail").is_dir()
    assert resources.DEFAULT_OUTBOX == resources.REPO / ".local" / "outbox"


# --- the poller ---------------------------------------------------------------------


def test_lambda_event_has_the_sqs_event_source_shape() -> None:
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": '{"task_id": "t"}',
        "MD5OfBody": "abc",
        "Attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1"},
        "MessageAttributes": {"kind": {"StringValue": "x", "DataType": "String"}},
    }

    event = lambda_event([message], "arn:aws:sqs:us-east-1:1:q", REGION)

    (record,) = event["Records"]
    assert record["messageId"] == "m-1"
    assert record["receiptHandle"] == "r-1"
    assert record["body"] == '{"task_id": "t"}'
    assert record["attributes"] == {
        "ApproximateReceiveCount": "2",
        "SentTimestamp": "1",
    }
    assert record["messageAttributes"]["kind"]["stringValue"] == "x"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:1:q"
    assert record["awsRegion"] == REGION


def test_failed_ids_reads_only_batch_item_failures() -> None:
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "a"}]}) == {"a"}
    assert failed_ids({"batchItemFailures": []}) == set()
    assert failed_ids(None) == set()


def test_the_poller_deletes_what_the_worker_handled_and_leaves_its_failures(
    created: resources.LocalResources,
) -> None:
    handler = StubWorker()
    _send(created.queue("email").url, "ok-1", "fail", "ok-2")
    poller = _poller(created, handler, wait_seconds=0)

    deleted = 0
    for _ in range(5):
        deleted += poller.poll_once()

    assert deleted == 2
    records = [r for event in handler.events for r in event["Records"]]
    assert sorted(r["body"] for r in records) == ["fail", "ok-1", "ok-2"]
    assert all(r["attributes"]["ApproximateReceiveCount"] == "1" for r in records)
    assert all(r["eventSourceARN"] == created.queue("email").arn for r in records)
    # The failure stays on the queue, invisible until its visibility timeout.
    assert _count(created.queue("email").url) == (0, 1)


def test_a_worker_that_raises_leaves_the_batch_and_the_poller_carries_on(
    created: resources.LocalResources, caplog: pytest.LogCaptureFixture
) -> None:
    broken = StubWorker(raises=True)
    _send(created.queue("email").url, "ok-1")
    poller = _poller(created, broken, wait_seconds=0)

    assert poller.poll_once() == 0

    assert len(broken.events) == 1
    assert _count(created.queue("email").url) == (0, 1)
    assert "the task worker failed on a batch of 1 message(s)" in caplog.text
    # The same poller takes the next message once the worker works again.
    broken.raises = False
    _send(created.queue("email").url, "ok-2")
    assert poller.poll_once() == 1


def test_a_worker_that_cannot_be_imported_is_logged_not_fatal(
    created: resources.LocalResources, caplog: pytest.LogCaptureFixture
) -> None:
    def missing() -> Any:
        raise ImportError("no module named functions.workers.nothing")

    queue = created.queue("email")
    poller = QueuePoller(
        resources.client("sqs", REGION),
        queue.url,
        queue.arn,
        REGION,
        load_handler=missing,
        make_context=lambda: None,
        wait_seconds=0,
    )
    _send(created.queue("email").url, "ok")

    assert poller.poll_once() == 0
    assert "ImportError" in caplog.text


def test_the_poller_thread_runs_batches_and_stops_within_a_wait(
    created: resources.LocalResources,
) -> None:
    handled = threading.Event()
    handler = StubWorker()

    def record(event: dict[str, Any], context: Any) -> dict[str, Any]:
        answer = handler(event, context)
        handled.set()
        return answer

    queue = created.queue("email")
    poller = QueuePoller(
        resources.client("sqs", REGION),
        queue.url,
        queue.arn,
        REGION,
        load_handler=lambda: record,
        make_context=lambda: None,
        wait_seconds=1,
    )
    poller.start()
    try:
        _send(created.queue("email").url, "ok")
        assert handled.wait(10)
    finally:
        started = time.monotonic()
        stopped = poller.stop(timeout=5)
    assert stopped
    assert time.monotonic() - started < 3
    assert _count(created.queue("email").url) == (0, 0)


# --- strata invoke with the workers ------------------------------------------------


@pytest.fixture
def local_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_settings: None
) -> Path:
    """The variables `strata invoke` fills in, set here so that they are restored."""
    outbox = tmp_path / "outbox"
    for name in (
        "STRATA_EMAIL_TASK_QUEUE_URL",
        "STRATA_USERS_TASK_QUEUE_URL",
        "STRATA_BILLING_TASK_QUEUE_URL",
        "STRATA_EXPORTS_BUCKET",
        "STRATA_SES_CONFIGURATION_SET",
    ):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("STRATA_OUTBOX_DIR", str(outbox))
    return outbox


def test_invoke_lists_the_workers_among_the_valid_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["invoke", "no_such_worker"])

    err = capsys.readouterr().err
    assert status == 2
    for worker in WORKERS:
        assert worker.name in err


def test_invoke_refuses_a_cookie_for_a_worker(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["invoke", "scheduler", "--cookie", "x"])

    assert status == 2
    assert "--cookie is for endpoints" in capsys.readouterr().err


def test_invoking_the_scheduler_and_then_the_jobs_family_worker_runs_the_job(
    capsys: pytest.CaptureFixture[str],
    container: Any,
    local_settings: Path,
    tmp_path: Path,
) -> None:
    status = main(
        [
            "invoke",
            "scheduler",
            "--event",
            str(EVENTS / f"schedule_{SCHEDULES[0].job}.json"),
        ]
    )
    submitted = json.loads(capsys.readouterr().out)
    assert status == 0
    assert submitted["job"] == SCHEDULES[0].job

    sqs = resources.client("sqs", REGION)
    messages = sqs.receive_message(
        QueueUrl=container.settings.users_task_queue_url,
        MaxNumberOfMessages=10,
        MessageSystemAttributeNames=["All"],
    )["Messages"]
    event = lambda_event(messages, "arn:aws:sqs:us-east-1:123456789012:q", REGION)
    event_file = tmp_path / "sqs.json"
    event_file.write_text(json.dumps(event), encoding="utf-8")

    # The purge is a users job: the users worker runs it.
    status = main(["invoke", "users_worker", "--event", str(event_file)])

    assert status == 0
    assert json.loads(capsys.readouterr().out) == {"batchItemFailures": []}
    task = container.tasks.get(submitted["task_id"])
    assert task.status.value == "succeeded"


def test_every_worker_has_its_sample_event() -> None:
    from core.application.tasks import family_of

    for worker in WORKERS:
        if worker.trigger == "queue":
            path = EVENTS / f"sqs_{worker.family}_task.json"
            event = json.loads(path.read_text())
            (record,) = event["Records"]
            assert record["eventSource"] == "aws:sqs"
            assert {"messageId", "receiptHandle", "body", "attributes"} <= set(record)
            body = json.loads(record["body"])
            assert "task_id" in body
            # A task of the worker's own family, from its family's queue.
            assert family_of(body["name"]) == worker.family
            assert record["eventSourceARN"].endswith(f"-{worker.family}-tasks")
        else:
            for schedule in SCHEDULES:
                path = EVENTS / f"schedule_{schedule.job}.json"
                assert json.loads(path.read_text()) == schedule.event
