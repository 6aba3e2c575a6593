"""When DynamoDB cannot be reached, every adapter operation says so in the
application's words (``DependencyUnavailable``, a 503), and never hangs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.adapters.dynamodb.models import ALL_MODELS, reconnect
from core.adapters.dynamodb.sessions import DynamoSessionStore
from core.adapters.dynamodb.users import DynamoUserRepository
from core.application.errors import DependencyUnavailable
from core.application.ports import SortOrder, UserSort
from core.domain.session import Session
from core.domain.user import Email, Role, User, Username
from local.harness import free_port

NOW = datetime(2024, 1, 1, tzinfo=UTC)
USER = User(
    id="user01",
    username=Username("nobody01"),
    email=Email("nobody01@example.com"),
    password_hash="hash",
    role=Role.USER,
    is_active=True,
    created_at=NOW,
    version=1,
)
SESSION = Session(
    id="session01",
    user_id="user01",
    created_at=NOW,
    expires_at=NOW + timedelta(hours=1),
)


@contextmanager
def cut_off() -> Iterator[None]:
    """Within the block, every model talks to a closed loopback port, with no
    retries and short timeouts; afterwards the endpoint and the settings are put
    back and the models connect afresh."""
    try:
        with pytest.MonkeyPatch.context() as monkeypatch:
            monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
            for model in ALL_MODELS:
                monkeypatch.setattr(model.Meta, "max_retry_attempts", 0)
                monkeypatch.setattr(model.Meta, "connect_timeout_seconds", 1)
                monkeypatch.setattr(model.Meta, "read_timeout_seconds", 1)
            # A connection reads the endpoint and these settings only when built.
            reconnect()
            yield
    finally:
        reconnect()


@pytest.fixture
def unreachable_storage(tables: None) -> Iterator[None]:
    with cut_off():
        yield


users = DynamoUserRepository()
sessions = DynamoSessionStore()

OPERATIONS: dict[str, Callable[[], Any]] = {
    "users.add": lambda: users.add(USER),
    "users.get": lambda: users.get(USER.id),
    "users.get_by_username": lambda: users.get_by_username("nobody01"),
    "users.save": lambda: users.save(USER),
    "users.list_page": lambda: users.list_page(
        UserSort.USERNAME, SortOrder.ASC, 5, None
    ),
    "sessions.add": lambda: sessions.add(SESSION),
    "sessions.get_with_user": lambda: sessions.get_with_user(SESSION.id, USER.id),
    "sessions.extend": lambda: sessions.extend(SESSION.id, SESSION.expires_at),
    "sessions.move_to_epoch": lambda: sessions.move_to_epoch(SESSION.id, 1),
    "sessions.delete": lambda: sessions.delete(SESSION.id),
    "sessions.delete_all_for_user": lambda: sessions.delete_all_for_user(USER.id),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_every_storage_operation_raises_dependency_unavailable_quickly_when_unreachable(
    unreachable_storage: None, operation: str
) -> None:
    started = time.monotonic()

    with pytest.raises(DependencyUnavailable) as raised:
        OPERATIONS[operation]()

    assert time.monotonic() - started < 5
    assert raised.value.__cause__ is not None


def test_storage_is_reachable_again_once_the_endpoint_is_restored(tables: None) -> None:
    with cut_off(), pytest.raises(DependencyUnavailable):
        users.get(USER.id)

    assert users.get(USER.id) is None
    users.add(replace(USER, version=0))
    assert users.get(USER.id) == USER
