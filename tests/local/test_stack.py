"""The local stack's building blocks: environment, moto server, tables."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from core.adapters.dynamodb.models import dynamodb_client
from functions.runtime.settings import get_settings
from local import stack


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port with a live listener on it for the test's duration."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.fixture
def empty_moto(moto_endpoint: str) -> str:
    """The session's moto server, with every table dropped."""
    httpx.post(f"{moto_endpoint}/moto-api/reset", trust_env=False).raise_for_status()
    return moto_endpoint


def test_use_local_aws_fills_an_empty_environment_for_moto_on_loopback() -> None:
    env: dict[str, str] = {}

    endpoint = stack.use_local_aws(4599, env)

    assert endpoint == "http://127.0.0.1:4599"
    assert env == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4599",
        "AWS_ACCESS_KEY_ID": stack.DUMMY_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": stack.DUMMY_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        "STRATA_STAGE": "local",
    }


def test_use_local_aws_leaves_what_the_caller_configured_alone() -> None:
    env = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9999",
        "AWS_ACCESS_KEY_ID": "mine",
        "AWS_SECRET_ACCESS_KEY": "my-secret",
        "AWS_REGION": "eu-west-1",
    }
    before = dict(env)

    endpoint = stack.use_local_aws(4599, env)

    assert endpoint == "http://127.0.0.1:9999"
    assert env == {**before, "STRATA_STAGE": "local"}


def test_starting_moto_on_a_busy_port_is_a_clear_error_not_a_hang(
    busy_port: int,
) -> None:
    started = time.monotonic()

    with pytest.raises(stack.PortInUse, match=f"port {busy_port} on 127.0.0.1"):
        stack.start_moto(busy_port)

    assert time.monotonic() - started < 5


def test_binding_a_busy_port_for_the_api_is_a_clear_error(busy_port: int) -> None:
    with pytest.raises(stack.PortInUse, match="already in use"):
        stack.bind_port(busy_port, "wanted for the API")


def test_moto_serves_on_loopback_until_stopped(unused_port: int) -> None:
    endpoint = stack.local_endpoint(unused_port)

    server = stack.start_moto(unused_port)
    try:
        assert stack.is_reachable(endpoint)
    finally:
        server.stop()

    assert not stack.is_reachable(endpoint)


def test_create_tables_creates_every_table_once_and_skips_them_after(
    empty_moto: str,
) -> None:
    settings = get_settings()

    first = stack.create_tables(settings)
    second = stack.create_tables(settings)

    names = [
        settings.users_table,
        settings.sessions_table,
        settings.tasks_table,
        settings.orgs_table,
    ]
    assert [(t.name, t.created) for t in first] == [(n, True) for n in names]
    assert [(t.name, t.created) for t in second] == [(n, False) for n in names]


def test_create_tables_switches_on_the_sessions_ttl_even_on_an_existing_table(
    empty_moto: str,
) -> None:
    settings = get_settings()
    stack.create_tables(settings)
    client = dynamodb_client()
    client.update_time_to_live(
        TableName=settings.sessions_table,
        TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires_at"},
    )

    statuses = stack.create_tables(settings)

    sessions = next(t for t in statuses if t.name == settings.sessions_table)
    assert sessions.ttl_attribute == "expires_at"
    described = client.describe_time_to_live(TableName=settings.sessions_table)
    assert described["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }
