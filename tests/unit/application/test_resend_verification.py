from __future__ import annotations

from dataclasses import replace

import pytest

from core.application.commands.resend_verification import ResendVerification
from core.application.errors import TooManyAttempts
from core.application.limits import EmailThrottle
from core.application.tasks import SEND_VERIFICATION_EMAIL, TaskSubmitter
from tests.fakes import InMemoryUserRepository, RecordingMailer, RecordingTaskQueue
from tests.unit.application.conftest import Seed


@pytest.fixture
def resend(submitter: TaskSubmitter, throttle: EmailThrottle) -> ResendVerification:
    return ResendVerification(submitter, throttle)


def test_an_unverified_user_gets_a_verification_email_queued(
    resend: ResendVerification,
    seed: Seed,
    task_queue: RecordingTaskQueue,
    mailer: RecordingMailer,
) -> None:
    alice = seed("alice")

    assert resend.execute(alice) is True

    (task,) = task_queue.queued
    assert task.name == SEND_VERIFICATION_EMAIL
    assert task.payload == {"user_id": alice.id, "template": "verify_email"}
    assert task.owner_id == alice.id
    assert mailer.sent == []


def test_a_verified_user_gets_nothing_queued(
    resend: ResendVerification,
    seed: Seed,
    users: InMemoryUserRepository,
    task_queue: RecordingTaskQueue,
) -> None:
    alice = users.save(replace(seed("alice"), email_verified=True))

    assert resend.execute(alice) is False

    assert task_queue.queued == []


def test_a_second_resend_within_the_window_is_refused_with_429(
    resend: ResendVerification, seed: Seed, task_queue: RecordingTaskQueue
) -> None:
    alice = seed("alice")
    assert resend.execute(alice, client="203.0.113.9")

    with pytest.raises(TooManyAttempts) as refused:
        resend.execute(alice, client="203.0.113.9")

    assert 0 < refused.value.retry_after <= 300
    assert len(task_queue.queued) == 1
