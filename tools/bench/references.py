"""The reference subjects, written as modules a child process imports like a handler.

- the FastAPI floor: a bare FastAPI + Mangum app with one route;
- a dependency floor: only ``import`` of the third-party top-level packages that a
  function had loaded once it had served its first request;
- the naive stack: FastAPI + Mangum + boto3 + pynamodb + PyJWT + Powertools Logger,
  Tracer and Metrics, with a boto3 DynamoDB client made and its JWT key read from
  Secrets Manager at import, and a handler wearing the three Powertools
  decorators: a typical hand-written function doing its work at init.

The naive stack is measured as it would be deployed: with its own dependencies only
(``naive_blocked`` names every installed package outside them), and with Lambda's
``LAMBDA_TASK_ROOT`` set, so that its Tracer loads the X-Ray SDK and patches as it
does in Lambda.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

PREFIX = "strata_bench_"
FASTAPI_FLOOR = f"{PREFIX}fastapi_floor"
NAIVE_STACK = f"{PREFIX}naive_stack"

FASTAPI_FLOOR_SOURCE = '''"""The FastAPI floor: bare FastAPI + Mangum, one route."""

from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/")
def root() -> dict[str, str]:
    return {"status": "ok"}


handler = Mangum(app, lifespan="off")
'''

NAIVE_STACK_SOURCE = '''"""A typical hand-written function: all at import."""

import os

import boto3
import jwt
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from fastapi import FastAPI
from mangum import Mangum
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

TABLE = os.environ["STRATA_BENCH_TABLE"]

logger = Logger(service="naive")
tracer = Tracer(service="naive")
metrics = Metrics(namespace="StrataBench", service="naive")
dynamodb = boto3.client("dynamodb")
# Its signing key, read at import as every function with permissions reads its own.
JWT_KEY = boto3.client("secretsmanager").get_secret_value(
    SecretId=os.environ["STRATA_BENCH_SECRET_ARN"]
)["SecretString"]


class UserItem(Model):
    class Meta:
        table_name = TABLE

    pk = UnicodeAttribute(hash_key=True)


app = FastAPI()


@app.get("/")
def root() -> dict[str, object]:
    found = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "USER#nobody"}})
    metrics.add_metric(name="Served", unit=MetricUnit.Count, value=1)
    logger.info("served", extra={"found": "Item" in found, "jwt": jwt.__version__})
    return {"status": "ok"}


asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    return asgi(event, context)
'''

# What the naive stack would ship: these distributions and what they require.
NAIVE_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "fastapi": (),
    "mangum": (),
    "boto3": (),
    "pynamodb": (),
    "pyjwt": (),
    "aws-lambda-powertools": ("tracer",),
}
NAIVE_PACKAGES = ", ".join(
    name + (f"[{','.join(extras)}]" if extras else "")
    for name, extras in NAIVE_DISTRIBUTIONS.items()
)

OWN_PACKAGES = frozenset(
    {"core", "functions", "local", "stripe_emulator", "tools", "tests"}
)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dependency_floor_source(packages: Iterable[str]) -> str:
    lines = [
        '"""A dependency floor: the packages a function loads, nothing else."""',
        "",
    ]
    lines += [f"import {name}" for name in sorted(packages)]
    return "\n".join(lines) + "\n"


def write_module(directory: Path, name: str, source: str) -> None:
    (directory / f"{name}.py").write_text(source, encoding="utf-8")


def closure(roots: dict[str, tuple[str, ...]]) -> set[str]:
    """The installed distributions ``roots`` (with their extras) pull in, normalized."""
    seen: set[str] = set()
    pending = [(normalize(name), extras) for name, extras in roots.items()]
    while pending:
        name, extras = pending.pop()
        if name in seen:
            continue
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for text in requires:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is not None and not any(
                marker.evaluate({"extra": extra}) for extra in ("", *extras)
            ):
                continue
            pending.append((normalize(requirement.name), tuple(requirement.extras)))
    return seen


def top_level_names(distributions: set[str]) -> set[str]:
    """The import names the installed ``distributions`` provide."""
    return {
        top
        for top, owners in metadata.packages_distributions().items()
        if any(normalize(owner) in distributions for owner in owners)
    }


def blocked_outside(distributions: set[str]) -> list[str]:
    """Every installed import name that ``distributions`` do not provide."""
    allowed = top_level_names(distributions)
    return sorted(
        top
        for top in metadata.packages_distributions()
        if top not in allowed
        and top not in sys.stdlib_module_names
        and top not in OWN_PACKAGES
        and top.isidentifier()
    )


def naive_blocked() -> list[str]:
    return blocked_outside(closure(NAIVE_DISTRIBUTIONS))


def layer_distributions(lock_file: Path) -> set[str] | None:
    """The distributions a locked Lambda layer requirements file names, if any."""
    if not lock_file.is_file():
        return None
    names = set()
    for line in lock_file.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", line)
        if match:
            names.add(normalize(match.group(1)))
    return names or None
