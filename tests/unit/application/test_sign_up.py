from __future__ import annotations

import pytest

from core.application.commands.sign_up import SignUp
from core.application.errors import (
    AlreadyAuthenticated,
    DependencyUnavailable,
    TooManyAttempts,
    UsernameTaken,
)
from core.application.limits import EmailThrottle
from core.application.registration import Registrar
from core.application.tasks import SEND_EMAIL, SEND_VERIFICATION_EMAIL, TaskSubmitter
from core.domain.errors import (
    DomainError,
    InvalidEmail,
    InvalidPassword,
    InvalidUsername,
)
from core.domain.task import TaskStatus
from core.domain.user import Role
from tests.fakes import (
    FakeClock,
    FakePasswordHasher,
    InMemoryOneTimeTokens,
    InMemoryTaskStore,
    InMemoryUserRepository,
    RecordingTaskQueue,
)
from tests.unit.application.conftest import Seed


@pytest.fixture
def sign_up(
    registrar: Registrar, submitter: TaskSubmitter, throttle: EmailThrottle
) -> SignUp:
    return SignUp(registrar, submitter, throttle)


def test_a_visitor_signs_up_as_an_active_plain_user(
    sign_up: SignUp, users: InMemoryUserRepository, clock: FakeClock
) -> None:
    user = sign_up.execute("Alice", "Alice@Example.com", "long enough", current=None)

    assert (user.username.value, user.email.value) == ("Alice", "Alice@Example.com")
    assert user.role is Role.USER
    assert user.is_active
    assert user.created_at == clock.now()
    stored = users.get_by_username("alice")
    assert stored is not None
    assert stored.id == user.id
    assert users.calls["add"] == 1


def test_the_password_is_stored_only_as_a_hash(
    sign_up: SignUp, users: InMemoryUserRepository, hasher: FakePasswordHasher
) -> None:
    user = sign_up.execute("alice", "a@example.com", "long enough", current=None)

    stored = users.stored(user.id)
    assert stored is not None
    assert stored.password_hash != "long enough"
    assert hasher.verify("long enough", stored.password_hash)


def test_two_sign_ups_get_distinct_ids(sign_up: SignUp) -> None:
    first = sign_up.execute("alice", "a@example.com", "long enough", current=None)
    second = sign_up.execute("bobby", "b@example.com", "long enough", current=None)
    assert first.id != second.id


def test_a_logged_in_user_cannot_sign_up(
    sign_up: SignUp, seed: Seed, users: InMemoryUserRepository
) -> None:
    alice = seed("alice")

    with pytest.raises(AlreadyAuthenticated):
        sign_up.execute("bobby", "b@example.com", "long enough", current=alice)

    assert users.writes == 0
    assert users.get_by_username("bobby") is None


@pytest.mark.parametrize(
    ("username", "email", "password", "error"),
    [
        ("abcd", "a@example.com", "long enough", InvalidUsername),
        ("a..bc", "a@example.com", "long enough", InvalidUsername),
        ("alice", "not-an-email", "long enough", InvalidEmail),
        ("alice", "a@example.com", "short", InvalidPassword),
        ("alice", "a@example.com", "", InvalidPassword),
    ],
)
def test_a_bad_value_is_refused_and_nothing_is_written(
    sign_up: SignUp,
    users: InMemoryUserRepository,
    username: str,
    email: str,
    password: str,
    error: type[DomainError],
) -> None:
    with pytest.raises(error):
        sign_up.execute(username, email, password, current=None)

    assert users.calls["add"] == 0
    assert users.all() == []


@pytest.mark.parametrize("spelling", ["alice", "ALICE", "aLiCe"])
def test_a_username_taken_in_any_case_is_refused(
    sign_up: SignUp, seed: Seed, users: InMemoryUserRepository, spelling: str
) -> None:
    alice = seed("Alice")

    with pytest.raises(UsernameTaken):
        sign_up.execute(spelling, "other@example.com", "long enough", current=None)

    assert users.all() == [alice]


@pytest.mark.parametrize("spelling", ["alice@example.com", "ALICE@EXAMPLE.COM"])
def test_an_email_taken_in_any_case_answers_like_a_new_account_and_tells_its_owner(
    sign_up: SignUp,
    seed: Seed,
    users: InMemoryUserRepository,
    task_queue: RecordingTaskQueue,
    spelling: str,
) -> None:
    # Sign-up must not tell who is registered: the same user-shaped answer,
    # nothing stored, and the owner hears that someone tried.
    alice = seed("alice", email="Alice@Example.com")

    answer = sign_up.execute("bobby", spelling, "long enough", current=None)

    assert (answer.username.value, answer.email.value) == ("bobby", spelling)
    assert users.all() == [alice]
    assert users.get_by_username("bobby") is None
    (task,) = task_queue.queued
    assert task.name == SEND_EMAIL
    assert task.payload == {"to": spelling, "template": "signup_attempt", "context": {}}


def test_the_owner_hears_of_repeated_attempts_once_per_window(
    sign_up: SignUp, seed: Seed, task_queue: RecordingTaskQueue
) -> None:
    seed("alice", email="alice@example.com")
    for n in range(5):
        sign_up.execute(f"bobby{n}", "alice@example.com", "long enough", None)

    assert len(task_queue.queued) == 1


def test_one_client_cannot_sign_up_without_end(sign_up: SignUp) -> None:
    for n in range(10):
        sign_up.execute(f"user{n:02d}", f"u{n}@example.com", "long enough", None, "c1")

    with pytest.raises(TooManyAttempts):
        sign_up.execute("user99", "u99@example.com", "long enough", None, "c1")
    sign_up.execute("user99", "u99@example.com", "long enough", None, "c2")


def test_the_new_user_comes_back_with_the_version_it_was_stored_at(
    sign_up: SignUp, users: InMemoryUserRepository
) -> None:
    user = sign_up.execute("Alice", "alice@example.com", "long enough", current=None)

    stored = users.get(user.id)
    assert stored is not None
    assert user.version == stored.version == 1


# -- the welcome email -----------------------------------------------------------------


def test_a_sign_up_queues_one_welcome_email_for_the_new_user_and_sends_nothing_itself(
    sign_up: SignUp,
    task_store: InMemoryTaskStore,
    task_queue: RecordingTaskQueue,
    link_tokens: InMemoryOneTimeTokens,
) -> None:
    user = sign_up.execute("alice", "alice@example.com", "long enough", current=None)

    (task,) = task_queue.queued
    assert task.name == SEND_VERIFICATION_EMAIL
    assert task.payload == {"user_id": user.id, "template": "welcome"}
    assert task.owner_id == user.id
    assert task_store.all() == [task]
    # The link's token is issued by the worker as it sends: none exists yet, so
    # none is stored in the task.
    assert link_tokens.calls["issue"] == 0


def test_a_refused_sign_up_queues_no_email(
    sign_up: SignUp, seed: Seed, task_queue: RecordingTaskQueue
) -> None:
    seed("alice")

    with pytest.raises(UsernameTaken):
        sign_up.execute("alice", "new@example.com", "long enough", current=None)

    assert task_queue.queued == []


def test_an_account_stands_when_its_welcome_email_cannot_be_queued(
    sign_up: SignUp,
    users: InMemoryUserRepository,
    task_store: InMemoryTaskStore,
    task_queue: RecordingTaskQueue,
) -> None:
    task_queue.fail = DependencyUnavailable()

    user = sign_up.execute("alice", "alice@example.com", "long enough", current=None)

    assert users.stored(user.id) is not None
    (task,) = task_store.all()
    assert task.status is TaskStatus.FAILED
