"""Tracing (``functions/runtime/observability.py``), in fresh interpreters.

On (``STRATA_TRACING=true``), a handler runs as in Lambda with active tracing: the
X-Ray SDK sees Lambda's variables (``LAMBDA_TASK_ROOT``, the ``_X_AMZN_TRACE_ID``
Lambda gives each invocation) and streams each finished subsegment over UDP to the
daemon address, here a socket of this test's, which reads what X-Ray would get.
The AWS calls go to moto and the Stripe calls to the emulator, over real HTTP, so
what is recorded is what the patched botocore and ``http.client`` saw.

Off (the default, and dev's), neither a Tracer is built nor the X-Ray SDK imported.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from local.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
TRACE_ID = "1-67891233-abcdef012345678912345678"
FACADE_ID = "53995c3f42cd8ad8"

SCRIPT = textwrap.dedent(
    """
    import json
    import sys

    from core.adapters.dynamodb.models import TABLE_MODELS
    from core.domain.user import Role
    from functions.catalog import BY_NAME
    from functions.runtime.container import build_container, use_container
    from functions.runtime.settings import get_settings
    from functions.sample_events import sample_event
    from local import stripe_plans
    from local.harness import FakeLambdaContext

    emulator = stripe_plans.start(int(sys.argv[1]))
    container = build_container(get_settings())
    for model in TABLE_MODELS:
        model.create_table(wait=True)
    use_container(container)
    container.registrar().register(
        "jane.doe", "jane@example.com", "pass word 1", Role.USER
    )
    jane = container.users.get_by_username("jane.doe")
    container.users.save(jane.with_email_verified())
    token = container.log_in().execute("jane.doe", "pass word 1", None).token
    replies = {}
    for name in sys.argv[2:]:
        endpoint = BY_NAME[name]
        module = __import__(endpoint.module, fromlist=["handler"])
        reply = module.handler(
            sample_event(endpoint, f"access_token={token}"),
            FakeLambdaContext(f"strata-test-{name}"),
        )
        replies[name] = reply["statusCode"]
    print(json.dumps({
        "replies": replies,
        "xray": "aws_xray_sdk" in sys.modules,
    }))
    """
)


def _run(
    tracing: bool, daemon_port: int, moto_endpoint: str, *names: str
) -> dict[str, Any]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("AWS_")
    }
    environment.update(
        PYTHONDONTWRITEBYTECODE="1",
        STRATA_STAGE="local",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=moto_endpoint,
        STRATA_USERS_TABLE=f"tracing-{tracing}-users",
        STRATA_SESSIONS_TABLE=f"tracing-{tracing}-sessions",
        STRATA_TASKS_TABLE=f"tracing-{tracing}-tasks",
        STRATA_STRIPE_API_BASE=f"http://127.0.0.1:{(stripe_port := free_port())}",
        # What Lambda sets in a function with active tracing.
        LAMBDA_TASK_ROOT=str(ROOT),
        AWS_LAMBDA_FUNCTION_NAME="strata-test",
        _X_AMZN_TRACE_ID=f"Root={TRACE_ID};Parent={FACADE_ID};Sampled=1",
        AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{daemon_port}",
        STRATA_TRACING="true" if tracing else "false",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(stripe_port), *names],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _documents(daemon: socket.socket) -> list[dict[str, Any]]:
    """Every segment document the daemon socket holds (a header line, then the
    document), with the subsegments each carries flattened out."""
    found: list[dict[str, Any]] = []
    daemon.setblocking(False)
    while True:
        try:
            packet = daemon.recv(65536)
        except BlockingIOError:
            break
        header, _, body = packet.decode().partition("\n")
        assert json.loads(header) == {"format": "json", "version": 1}
        pending = [json.loads(body)]
        while pending:
            document = pending.pop()
            found.append(document)
            pending.extend(document.get("subsegments", []))
    return found


def _daemon() -> socket.socket:
    daemon = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    daemon.bind(("127.0.0.1", 0))
    daemon.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    return daemon


def _during(documents: list[dict[str, Any]], function: str) -> list[dict[str, Any]]:
    """The subsegments recorded while ``function``'s invocation ran. (Calls made in
    FastAPI's worker thread hang off Lambda's segment, not off the invocation's
    subsegment: X-Ray's Lambda context is per thread.)"""
    (invocation,) = [d for d in documents if d["name"] == f"## {function}"]
    return [
        d
        for d in documents
        if d is not invocation
        and invocation["start_time"] <= d["start_time"] <= invocation["end_time"]
    ]


def test_a_request_records_a_subsegment_per_dynamodb_and_stripe_call(
    moto_endpoint: str,
) -> None:
    daemon = _daemon()
    try:
        result = _run(True, daemon.getsockname()[1], moto_endpoint, "billing_checkout")
        documents = _documents(daemon)
    finally:
        daemon.close()

    assert result["xray"] is True
    assert result["replies"]["billing_checkout"] < 400, result
    assert documents, "nothing reached the daemon"
    assert {d.get("trace_id") for d in documents if "trace_id" in d} == {TRACE_ID}
    (invocation,) = [
        d for d in documents if d["name"] == "## strata-test-billing_checkout"
    ]
    assert invocation["annotations"]["correlation_id"]
    calls = _during(documents, "strata-test-billing_checkout")
    aws = [(c["name"], c.get("aws", {}).get("operation")) for c in calls]
    # The session and the user in one read, then the customer attached to the user
    # (one transaction).
    assert ("dynamodb", "BatchGetItem") in aws, aws
    assert ("dynamodb", "TransactWriteItems") in aws, aws
    stripe = [
        (c["http"]["request"]["method"], c["http"]["request"]["url"])
        for c in calls
        if c.get("namespace") == "remote"
    ]
    # Checkout asks Stripe twice: a customer, then a Checkout Session.
    assert [method for method, _ in stripe] == ["POST", "POST"], stripe
    assert stripe[0][1].endswith("/v1/customers"), stripe
    assert stripe[1][1].endswith("/v1/checkout/sessions"), stripe


def test_with_tracing_off_no_tracer_is_built_and_the_xray_sdk_never_imported(
    moto_endpoint: str,
) -> None:
    daemon = _daemon()
    try:
        result = _run(False, daemon.getsockname()[1], moto_endpoint, "billing_checkout")
        documents = _documents(daemon)
    finally:
        daemon.close()

    assert result["replies"]["billing_checkout"] < 400, result
    assert result["xray"] is False
    assert documents == []
