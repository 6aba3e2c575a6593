"""Shared fixtures: a moto server on loopback and a container wired to it.

The environment is set before anything builds an AWS client, so every botocore
client (pynamodb's included) talks to the moto server through ``AWS_ENDPOINT_URL``,
exactly as the local stack does.
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    STRATA_STAGE="local",
    STRATA_BCRYPT_ROUNDS="4",
)
for _name in ("AWS_PROFILE", "STRATA_JWT_SECRET", "STRATA_PASSWORD_PEPPER"):
    os.environ.pop(_name, None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server for the whole run; tests reset it rather than restart it."""
    from moto.server import ThreadedMotoServer

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
    bind_tables(settings.users_table, settings.sessions_table, settings.region)
    for model in TABLE_MODELS:
        model.create_table(wait=True)


@pytest.fixture
def container(tables: None) -> Iterator[Any]:
    """The real composition root on moto, installed as the process's container."""
    from functions.runtime.container import build_container, use_container
    from functions.runtime.settings import get_settings

    built = build_container(get_settings())
    use_container(built)
    yield built
    use_container(None)


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
    from core.adapters.dynamodb.models import ALL_MODELS

    calls = DynamoCalls()
    clients = [model._get_connection().connection.client for model in ALL_MODELS]
    for client in clients:
        client.meta.events.register("before-call.dynamodb", calls)
    yield calls
    for client in clients:
        client.meta.events.unregister("before-call.dynamodb", calls)
