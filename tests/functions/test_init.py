"""In Lambda, a function's init (the import of its handler module) builds what its
first request needs, and a failure there is logged and retried by the requests,
never an import error Lambda would repeat on every event.

Each test runs a handler in a fresh interpreter, as Lambda does, against moto.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
JWT_SECRET = "j" * 64
PEPPER = "p" * 64

pytestmark = pytest.mark.moto

# Imports the handler (init), then counts every botocore client made from then on
# and calls the handler: ``REQUESTS`` log-ins of a user nobody has (a 401 after a
# rate-limit reservation and a user lookup in DynamoDB, and a dummy bcrypt check).
CHILD = """
import json, os, sys

import functions.http.login as login
from functions.runtime import container as root

built = root._container is not None

import botocore.session

made = []
create_client = botocore.session.Session.create_client


def counting(self, service, *args, **kwargs):
    made.append(service)
    return create_client(self, service, *args, **kwargs)


botocore.session.Session.create_client = counting

import threading

started = []
start_thread = threading.Thread.start


def starting(self, *args, **kwargs):
    started.append(self.name)
    return start_thread(self, *args, **kwargs)


threading.Thread.start = starting

from functions.catalog import BY_NAME
from local.harness import FakeLambdaContext, http_api_event

statuses = []
for step in sys.argv[2].split(","):
    if step == "create-jwt-secret":
        create_client(botocore.session.get_session(), "secretsmanager").create_secret(
            Name=os.environ["STRATA_JWT_SECRET_ARN"], SecretString="j" * 64
        )
        continue
    event = http_api_event(
        BY_NAME["login"],
        json_body={"username": "nobody.here", "password": "not-the-password"},
    )
    reply = login.handler(event, FakeLambdaContext())
    statuses.append([reply["statusCode"], json.loads(reply["body"] or "{}")])
with open(sys.argv[1], "w") as out:
    json.dump(
        {"built": built, "made": made, "statuses": statuses, "threads": started}, out
    )
"""


def run_login(
    tmp_path: Path, environment: dict[str, str], steps: str = "login"
) -> tuple[dict[str, Any], str]:
    result = tmp_path / "result.json"
    env = {**os.environ, **environment}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(result), steps],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(result.read_text()), done.stdout


@pytest.fixture
def deployed(tables: None) -> dict[str, str]:
    """A deployed stage's environment in Lambda: the secrets in moto by ARN."""
    from tests.conftest import aws_client

    secrets = aws_client("secretsmanager")
    jwt_arn = secrets.create_secret(Name="init-jwt", SecretString=JWT_SECRET)["ARN"]
    pepper = secrets.create_secret(Name="init-pepper", SecretString=PEPPER)["ARN"]
    return {
        "AWS_LAMBDA_FUNCTION_NAME": "strata-dev-login",
        "STRATA_STAGE": "dev",
        "STRATA_JWT_SECRET_ARN": jwt_arn,
        "STRATA_PASSWORD_PEPPER_ARN": pepper,
    }


def test_in_lambda_init_builds_the_container_and_the_first_request_makes_no_client(
    tmp_path: Path, deployed: dict[str, str]
) -> None:
    result, _ = run_login(tmp_path, deployed)

    assert result["built"] is True
    assert result["made"] == []
    ((status, body),) = result["statuses"]
    assert status == 401, body
    assert body["code"] == "invalid_credentials"


def test_outside_lambda_importing_a_handler_builds_nothing(
    tmp_path: Path, deployed: dict[str, str]
) -> None:
    outside = {**deployed, "AWS_LAMBDA_FUNCTION_NAME": ""}

    result, _ = run_login(tmp_path, outside)

    assert result["built"] is False
    # The first request builds it: the DynamoDB client, Secrets Manager's.
    assert "dynamodb" in result["made"]
    assert "secretsmanager" in result["made"]
    assert result["statuses"][0][0] == 401


def test_in_lambda_a_request_runs_on_the_event_loop_without_starting_a_thread(
    tmp_path: Path, deployed: dict[str, str]
) -> None:
    # Two requests: each is a task of its own, for which anyio would start a worker
    # thread if a plain dependency or the path function went to the thread pool.
    result, _ = run_login(tmp_path, deployed, "login,login")

    assert [status for status, _ in result["statuses"]] == [401, 401]
    assert result["threads"] == []


def test_outside_lambda_plain_functions_still_run_in_worker_threads(
    tmp_path: Path, deployed: dict[str, str]
) -> None:
    # The local stack serves many requests in one process: a blocking call must
    # not hold up the event loop there.
    outside = {**deployed, "AWS_LAMBDA_FUNCTION_NAME": ""}

    result, _ = run_login(tmp_path, outside, "login,login")

    assert [status for status, _ in result["statuses"]] == [401, 401]
    assert len(result["threads"]) >= 2


def test_secrets_unreadable_at_init_are_logged_then_503_until_a_request_can_build(
    tmp_path: Path, deployed: dict[str, str]
) -> None:
    missing = {**deployed, "STRATA_JWT_SECRET_ARN": "init-jwt-made-later"}

    result, output = run_login(tmp_path, missing, "login,login,create-jwt-secret,login")

    assert result["built"] is False
    (failure,) = [
        json.loads(line)
        for line in output.splitlines()
        if line.startswith("{") and "init could not build" in line
    ]
    assert failure["level"] == "ERROR"
    assert "DependencyUnavailable" in failure["exception"]
    first, second, third = result["statuses"]
    assert (first[0], first[1]["code"]) == (503, "dependency_unavailable")
    assert (second[0], second[1]["code"]) == (503, "dependency_unavailable")
    assert third[0] == 401
    assert JWT_SECRET not in output
    assert PEPPER not in output
