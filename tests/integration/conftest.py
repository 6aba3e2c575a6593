"""Helpers for the adapter tests: users and sessions built in the domain's words."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from core.adapters.dynamodb.sessions import DynamoSessionStore
from core.adapters.dynamodb.users import DynamoUserRepository
from core.domain.session import Session
from core.domain.user import Email, Role, User, Username

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_serial = itertools.count(1)

MakeUser = Callable[..., User]
MakeSession = Callable[..., Session]


@pytest.fixture
def users(tables: None) -> DynamoUserRepository:
    return DynamoUserRepository()


@pytest.fixture
def sessions(tables: None) -> DynamoSessionStore:
    return DynamoSessionStore()


@pytest.fixture
def make_user() -> MakeUser:
    """A new, unsaved user; every field has a unique default."""

    def make(
        username: str | None = None,
        email: str | None = None,
        *,
        role: Role = Role.USER,
        created_at: datetime | None = None,
        user_id: str | None = None,
    ) -> User:
        n = next(_serial)
        return User(
            id=user_id or f"user{n:06d}",
            username=Username(username or f"user{n:06d}"),
            email=Email(email or f"user{n:06d}@example.com"),
            password_hash="$2b$04$not-a-real-hash",
            role=role,
            is_active=True,
            created_at=created_at or EPOCH + timedelta(seconds=n),
        )

    return make


@pytest.fixture
def make_session() -> MakeSession:
    """A new, unsaved session of ``user_id`` that expires ``expires_in`` from now."""

    def make(
        user_id: str, expires_in: timedelta = timedelta(minutes=30), epoch: int = 0
    ) -> Session:
        now = datetime.now(UTC).replace(microsecond=0)
        return Session(
            id=f"session{next(_serial):06d}",
            user_id=user_id,
            created_at=now - timedelta(minutes=1),
            expires_at=now + expires_in,
            epoch=epoch,
        )

    return make
