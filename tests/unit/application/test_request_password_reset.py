from __future__ import annotations

from datetime import timedelta

import pytest

from core.application.commands.request_password_reset import RequestPasswordReset
from core.application.errors import TooManyAttempts
from core.application.limits import EmailThrottle
from core.application.tasks import SEND_PASSWORD_RESET, TaskSubmitter
from core.domain.errors import InvalidEmail
from tests.fakes import (
    FakeClock,
    InMemoryOneTimeTokens,
    InMemoryUserRepository,
    RecordingMailer,
    RecordingTaskQueue,
)
from tests.unit.application.conftest import Seed


@pytest.fixture
def request_reset(
    submitter: TaskSubmitter, throttle: EmailThrottle
) -> RequestPasswordReset:
    return RequestPasswordReset(submitter, throttle)


@pytest.mark.parametrize("email", ["Alice@Example.com", "nobody@example.com"])
def test_a_request_queues_the_same_task_whether_or_not_the_email_is_registered(
    request_reset: RequestPasswordReset,
    seed: Seed,
    users: InMemoryUserRepository,
    task_queue: RecordingTaskQueue,
    link_tokens: InMemoryOneTimeTokens,
    mailer: RecordingMailer,
    email: str,
) -> None:
    seed("alice", email="alice@example.com")

    request_reset.execute(email)

    (task,) = task_queue.queued
    assert task.name == SEND_PASSWORD_RESET
    assert task.payload == {"email": email.lower()}
    assert task.owner_id is None
    # The request itself never looks the address up, issues a token or sends.
    assert users.calls == {}
    assert link_tokens.calls == {}
    assert mailer.sent == []


def test_something_that_cannot_be_an_email_is_refused_and_queues_nothing(
    request_reset: RequestPasswordReset, task_queue: RecordingTaskQueue
) -> None:
    with pytest.raises(InvalidEmail):
        request_reset.execute("not an email")

    assert task_queue.queued == []


@pytest.mark.parametrize("email", ["Alice@Example.com", "nobody@example.com"])
def test_one_address_gets_one_reset_email_per_window_and_the_answer_never_changes(
    request_reset: RequestPasswordReset,
    seed: Seed,
    task_queue: RecordingTaskQueue,
    clock: FakeClock,
    email: str,
) -> None:
    # Email bombing: the tenth request for one address queues nothing more, and
    # answers the same, registered or not.
    seed("alice", email="alice@example.com")
    for n in range(5):
        request_reset.execute(email, client=f"203.0.113.{n}")

    assert len(task_queue.queued) == 1
    clock.advance(timedelta(minutes=5))
    request_reset.execute(email, client="203.0.113.99")
    assert len(task_queue.queued) == 2


def test_one_client_asking_for_many_addresses_gets_429(
    request_reset: RequestPasswordReset, task_queue: RecordingTaskQueue
) -> None:
    for n in range(10):
        request_reset.execute(f"victim{n}@example.com", client="203.0.113.9")

    with pytest.raises(TooManyAttempts):
        request_reset.execute("victim99@example.com", client="203.0.113.9")
    assert len(task_queue.queued) == 10
