"""Shared fixtures: a moto server on loopback and a container wired to it.

The environment is set before anything builds an AWS client, so every botocore
client (pynamodb's included) talks to the moto server through ``AWS_ENDPOINT_URL``,
exactly as the local stack does.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from local.harness import free_port

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    STRATA_STAGE="local",
    STRATA_BCRYPT_ROUNDS="4",
    # Never the developer's running stack: a command under test finds none.
    STRATA_STACK_FILE=os.path.join(
        tempfile.gettempdir(), f"strata-tests-{os.getpid()}", "stack.json"
    ),
)
for _name in (
    "AWS_PROFILE",
    "STRATA_JWT_SECRET",
    "STRATA_PASSWORD_PEPPER",
    # Stripe is the local emulator, with the local stage's key and secret.
    "STRATA_STRIPE_API_KEY",
    "STRATA_STRIPE_API_KEY_ARN",
    "STRATA_STRIPE_WEBHOOK_SECRET",
    "STRATA_STRIPE_WEBHOOK_SECRET_ARN",
    "STRATA_STRIPE_API_BASE",
    "STRATA_CLOCK_OFFSET_FILE",
):
    os.environ.pop(_name, None)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server for the whole run; tests reset it rather than restart it."""
    from moto.server import ThreadedMotoServer

    from local.stack import isolate_dynamodb_writes

    isolate_dynamodb_writes()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    yield endpoint
    if previous is None:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    else:
        os.environ["AWS_ENDPOINT_URL"] = previous
    server.stop()


@pytest.fixture
def tables(moto_endpoint: str) -> None:
    """Empty tables, created from the pynamodb models, bound for this test."""
    import urllib.request

    from core.adapters.dynamodb.models import TABLE_MODELS, bind_tables
    from functions.runtime.settings import get_settings

    # Loopback moto only: the URL is built from the fixture's own server.
    reset = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")  # noqa: S310
    urllib.request.urlopen(reset).close()  # noqa: S310
    settings = get_settings()
    bind_tables(
        settings.users_table,
        settings.sessions_table,
        settings.region,
        tasks_table=settings.tasks_table,
        orgs_table=settings.orgs_table,
    )
    for model in TABLE_MODELS:
        model.create_table(wait=True)


@dataclass(frozen=True)
class TaskResources:
    """A task queue, its dead letter queue (if made) and the exports bucket.

    The tests queue every family's tasks on this one queue (``settings`` points
    every family's URL at it); the test drains it through each message's own
    family's worker (``tests.functions.mailbox.Worker``)."""

    queue_url: str
    dead_letter_url: str
    bucket: str

    def settings(self) -> dict[str, str]:
        """The settings that send every family's tasks to this queue."""
        return {
            f"{family}_task_queue_url": self.queue_url
            for family in ("email", "users", "billing")
        }


_aws_clients: dict[str, Any] = {}


def aws_client(service: str) -> Any:
    """A botocore client for the moto server, made once per run (a client costs a
    service model load); the endpoint comes from ``AWS_ENDPOINT_URL``."""
    if service not in _aws_clients:
        import botocore.session

        _aws_clients[service] = botocore.session.get_session().create_client(
            service, region_name="us-east-1"
        )
    return _aws_clients[service]


def create_task_resources(
    *,
    suffix: str = "",
    visibility_timeout: int = 30,
    max_receives: int | None = None,
    dead_letter: bool = True,
) -> TaskResources:
    """A task queue and the exports bucket. With ``dead_letter``, the queue's
    messages go to a dead letter queue after ``max_receives`` receives (the
    settings' number by default)."""
    import contextlib
    import json

    from functions.resources import LOCAL_PREFIX
    from functions.runtime.settings import get_settings

    settings = get_settings()
    sqs = aws_client("sqs")
    attributes = {"VisibilityTimeout": str(visibility_timeout)}
    dead_letter_url = ""
    if dead_letter:
        dead_letter_url = sqs.create_queue(
            QueueName=f"{LOCAL_PREFIX}-test-tasks-dlq{suffix}"
        )["QueueUrl"]
        dead_letter_arn = sqs.get_queue_attributes(
            QueueUrl=dead_letter_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        redrive = {
            "deadLetterTargetArn": dead_letter_arn,
            "maxReceiveCount": str(max_receives or settings.task_max_receives),
        }
        attributes["RedrivePolicy"] = json.dumps(redrive)
    queue_url = sqs.create_queue(
        QueueName=f"{LOCAL_PREFIX}-test-tasks{suffix}", Attributes=attributes
    )["QueueUrl"]
    s3 = aws_client("s3")
    with contextlib.suppress(
        s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists
    ):
        s3.create_bucket(Bucket=settings.exports_bucket)
    return TaskResources(queue_url, dead_letter_url, settings.exports_bucket)


@pytest.fixture
def task_resources(tables: None) -> TaskResources:
    """The task queue and the exports bucket (no dead letter queue: only the worker
    tests, which make their own queue, need one)."""
    return create_task_resources(dead_letter=False)


@pytest.fixture
def stripe() -> Any:
    """Stripe for this test: the emulator in this process (Strata's plan prices, the
    local stage's webhook secret), its events delivered to the ``stripe_webhook``
    handler when the test flushes (``tests.stripe_local.StripeControl``)."""
    from functions.runtime.settings import LOCAL_STRIPE_WEBHOOK_SECRET
    from local.stripe_plans import plan_prices
    from stripe_emulator.inprocess import in_process
    from tests.stripe_local import Relay, StripeControl

    emulator = in_process(plan_prices(), secret=LOCAL_STRIPE_WEBHOOK_SECRET)
    return StripeControl(emulator, Relay())


def _over_stripe(built: Any, stripe: Any) -> Any:
    """``built`` with its payments Strata's adapter over ``stripe``'s emulator."""
    from dataclasses import replace

    from tests.stripe_inprocess import stripe_adapter

    payments = stripe_adapter(
        stripe.emulator,
        now=built.clock.now,
        max_retries=built.settings.stripe_max_retries,
    )
    return replace(built, payments=payments)


@pytest.fixture
def moto_container(task_resources: TaskResources, stripe: Any) -> Iterator[Any]:
    """The real composition root on moto, installed as the process's container;
    its tasks go to the ``task_resources`` queue, its Stripe calls to the
    test's in-process emulator (``stripe``)."""
    from functions.runtime.container import build_container, use_container
    from functions.runtime.settings import get_settings

    settings = get_settings().model_copy(update=task_resources.settings())
    built = _over_stripe(build_container(settings), stripe)
    use_container(built)
    yield built
    use_container(None)


@pytest.fixture
def fake_container(moto_endpoint: str, stripe: Any) -> Iterator[Any]:
    """The real composition root with every AWS-backed port replaced by its
    in-memory fake (tests/fakes.py, held to the adapters' contracts by the
    integration suite); the codecs, the hasher and Stripe's adapter (over the
    test's in-process emulator, ``stripe``) stay real. What a handler does with
    the ports is the same; a test pays no DynamoDB round trip and no table reset.
    (``moto_endpoint`` only so that the clients the composition root makes, unused
    here, point at it when a later test of the same process uses them.)"""
    from dataclasses import replace

    from functions.runtime.container import build_container, use_container
    from functions.runtime.settings import get_settings
    from tests.fakes import storage_fakes

    built = replace(
        _over_stripe(build_container(get_settings()), stripe), **storage_fakes()
    )
    use_container(built)
    yield built
    use_container(None)


@pytest.fixture
def container(request: pytest.FixtureRequest) -> Any:
    """The container the handlers under test use: in-memory fakes by default; the
    real one on moto for a test marked ``moto`` (it looks at AWS itself) or one
    that counts DynamoDB calls."""
    if request.node.get_closest_marker("moto") or "dynamo_calls" in (
        request.fixturenames
    ):
        return request.getfixturevalue("moto_container")
    return request.getfixturevalue("fake_container")


@dataclass
class DynamoCalls:
    """DynamoDB operations seen through botocore's event hooks, by operation name."""

    counts: Counter[str] = field(default_factory=Counter)
    tables: Counter[tuple[str, str]] = field(default_factory=Counter)

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        operation = model.name
        self.counts[operation] += 1
        body = params.get("body", {})
        for table in _tables_of(operation, body):
            self.tables[(operation, table)] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def reset(self) -> None:
        self.counts.clear()
        self.tables.clear()


def _tables_of(operation: str, body: Any) -> list[str]:
    import json

    if isinstance(body, bytes | str):
        try:
            body = json.loads(body or "{}")
        except ValueError:
            return []
    if not isinstance(body, dict):
        return []
    if "TableName" in body:
        return [body["TableName"]]
    if "RequestItems" in body:
        return list(body["RequestItems"])
    if "TransactItems" in body:
        names = []
        for item in body["TransactItems"]:
            for action in item.values():
                names.append(action["TableName"])
        return names
    return []


@pytest.fixture
def dynamo_calls(tables: None) -> Iterator[DynamoCalls]:
    """Counts every DynamoDB call the adapters make during the test."""
    from core.adapters.dynamodb.models import dynamodb_clients

    calls = DynamoCalls()
    clients = dynamodb_clients()
    for client in clients:
        client.meta.events.register("before-call.dynamodb", calls)
    yield calls
    for client in clients:
        client.meta.events.unregister("before-call.dynamodb", calls)


# The layers whose handlers run on in-memory fakes unless a test is marked moto; the
# others (integration, local, e2e) are about the adapters and the stack themselves.
FAKE_LAYERS = ("functions", "security", "fuzz", "bench")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that counts DynamoDB calls, or that uses the container outside the
    layers on fakes, runs on moto (``container`` gives it the real adapters), and
    carries the ``moto`` mark that ``make check`` leaves out.

    Under xdist (``-n``), what shares costly session state stays on one worker: the
    CDK synth of each stage (tests/infra) is made once per process, so all the infra
    tests go to one worker, the bench's smoke run to one, and an e2e module's
    tests that share its stack to one."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        on_fakes = any(f"/tests/{layer}/" in str(item.path) for layer in FAKE_LAYERS)
        if "dynamo_calls" in fixtures or ("container" in fixtures and not on_fakes):
            item.add_marker(pytest.mark.moto)
        path = str(item.path)
        for group in ("infra", "bench"):
            if f"/tests/{group}/" in path:
                item.add_marker(pytest.mark.xdist_group(group))
        # An e2e module's tests on its one stack (module-scoped) stay together:
        # spread over two workers, each would start its own stack (~8 s).
        if "/tests/e2e/" in path and "stack" in fixtures:
            item.add_marker(pytest.mark.xdist_group(f"e2e-{item.path.stem}"))
    # The longest units first (the infra group, the bench's, the e2e stacks), the
    # many short tests after: they fill the other worker meanwhile, and no worker
    # is left alone with a long group at the end.
    items.sort(key=_first)


def _first(item: pytest.Item) -> int:
    for rank, layer in enumerate(("infra", "bench", "e2e")):
        if f"/tests/{layer}/" in str(item.path):
            return rank
    return 3
