from __future__ import annotations

from typing import Any

import pytest

from core.application.jobs import InvalidPayload
from core.application.jobs.send_email import SendEmailJob
from tests.fakes import RecordingMailer, SentEmail


def test_the_job_sends_the_payloads_message(mailer: RecordingMailer) -> None:
    result = SendEmailJob(mailer).run(
        {"to": "a@example.com", "template": "welcome", "context": {"username": "a"}}
    )

    assert mailer.sent == [SentEmail("a@example.com", "welcome", {"username": "a"})]
    assert result == {"template": "welcome"}


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"to": "a@example.com"},
        {"to": "", "template": "welcome"},
        {"to": "a@example.com", "template": 7},
        {"to": "a@example.com", "template": "welcome", "context": ["x"]},
        {"to": "a@example.com", "template": "welcome", "context": {"n": 1}},
    ],
)
def test_a_payload_missing_what_the_job_needs_is_refused_and_sends_nothing(
    mailer: RecordingMailer, payload: dict[str, Any]
) -> None:
    with pytest.raises(InvalidPayload):
        SendEmailJob(mailer).run(payload)

    assert mailer.sent == []


def test_a_mailer_failure_fails_the_attempt(mailer: RecordingMailer) -> None:
    mailer.fail = RuntimeError("SES is down")

    with pytest.raises(RuntimeError):
        SendEmailJob(mailer).run({"to": "a@example.com", "template": "welcome"})
