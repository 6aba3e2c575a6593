from __future__ import annotations

import pytest

from core.application.commands.request_password_reset import RequestPasswordReset
from core.application.tasks import SEND_PASSWORD_RESET, TaskSubmitter
from core.domain.errors import InvalidEmail
from tests.fakes import (
    InMemoryOneTimeTokens,
    InMemoryUserRepository,
    RecordingMailer,
    RecordingTaskQueue,
)
from tests.unit.application.conftest import Seed


@pytest.fixture
def request_reset(submitter: TaskSubmitter) -> RequestPasswordReset:
    return RequestPasswordReset(submitter)


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
