"""The ports, faked in memory, and helpers to put users and sessions in them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from core.application.registration import Registrar
from core.application.tasks import TaskSubmitter
from core.domain.password import PasswordPolicy
from core.domain.session import Session
from core.domain.user import Email, Role, User, Username
from tests.fakes import (
    FakeClock,
    FakeCursorCodec,
    FakePasswordHasher,
    FakeTokenCodec,
    InMemoryOneTimeTokens,
    InMemorySessionStore,
    InMemoryTaskStore,
    InMemoryUserRepository,
    RecordingMailer,
    RecordingTaskQueue,
    SequentialIds,
)

SESSION_TTL = timedelta(hours=1)
RENEW_THRESHOLD = 0.5
PASSWORD = "correct horse battery"

Seed = Callable[..., User]
OpenSession = Callable[[User], tuple[Session, str]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ids() -> SequentialIds:
    return SequentialIds()


@pytest.fixture
def users() -> InMemoryUserRepository:
    return InMemoryUserRepository()


@pytest.fixture
def sessions(users: InMemoryUserRepository) -> InMemorySessionStore:
    return InMemorySessionStore(users)


@pytest.fixture
def hasher() -> FakePasswordHasher:
    return FakePasswordHasher()


@pytest.fixture
def tokens(clock: FakeClock) -> FakeTokenCodec:
    return FakeTokenCodec(clock)


@pytest.fixture
def cursors() -> FakeCursorCodec:
    return FakeCursorCodec()


@pytest.fixture
def policy() -> PasswordPolicy:
    return PasswordPolicy(min_length=8)


@pytest.fixture
def registrar(
    users: InMemoryUserRepository,
    hasher: FakePasswordHasher,
    ids: SequentialIds,
    clock: FakeClock,
    policy: PasswordPolicy,
) -> Registrar:
    return Registrar(users, hasher, ids, clock, policy)


@pytest.fixture
def seed(
    users: InMemoryUserRepository,
    hasher: FakePasswordHasher,
    ids: SequentialIds,
    clock: FakeClock,
) -> Seed:
    """Stores a user directly (not through the code under test) and returns it as
    stored, version included. Resets the repository's call counts."""

    def make(
        username: str,
        role: Role = Role.USER,
        *,
        active: bool = True,
        password: str = PASSWORD,
        email: str | None = None,
    ) -> User:
        user = User(
            id=ids.new_id(),
            username=Username(username),
            email=Email(email or f"{username.lower()}@example.com"),
            password_hash=hasher.hash(password),
            role=role,
            is_active=active,
            created_at=clock.now(),
        )
        users.add(user)
        users.calls.clear()
        stored = users.stored(user.id)
        assert stored is not None
        return stored

    return make


@pytest.fixture
def open_session(
    sessions: InMemorySessionStore,
    tokens: FakeTokenCodec,
    ids: SequentialIds,
    clock: FakeClock,
) -> OpenSession:
    """Stores a fresh session of ``user`` in the user's current epoch and returns it
    with its token. Resets the store's call counts."""

    def make(user: User) -> tuple[Session, str]:
        now = clock.now()
        session = Session(
            id=ids.new_id(),
            user_id=user.id,
            created_at=now,
            expires_at=now + SESSION_TTL,
            epoch=user.session_epoch,
        )
        sessions.add(session)
        sessions.calls.clear()
        return session, tokens.issue(session)

    return make


# -- email, link tokens and task submission (the email work) ---------------------------

TASK_KEEP = timedelta(days=7)


@pytest.fixture
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture
def link_tokens() -> InMemoryOneTimeTokens:
    return InMemoryOneTimeTokens()


@pytest.fixture
def task_store(clock: FakeClock) -> InMemoryTaskStore:
    return InMemoryTaskStore(clock)


@pytest.fixture
def task_queue() -> RecordingTaskQueue:
    return RecordingTaskQueue()


@pytest.fixture
def submitter(
    task_store: InMemoryTaskStore,
    task_queue: RecordingTaskQueue,
    clock: FakeClock,
) -> TaskSubmitter:
    return TaskSubmitter(
        task_store, task_queue, SequentialIds("task"), clock, TASK_KEEP
    )


class RacingUsers(InMemoryUserRepository):
    """Another update of the user lands just before each of the next ``races``
    saves, so those saves find the version moved on."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races

    def save(self, user: User) -> User:
        if self.races > 0:
            self.races -= 1
            stored = self.stored(user.id)
            assert stored is not None
            super().save(stored)  # someone else's write moves the version on
        return super().save(user)
