from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from core.application.account_emails import AccountLinks
from core.application.jobs import InvalidPayload
from core.application.jobs.send_verification_email import SendVerificationEmailJob
from core.application.ports import LinkGrant
from tests.fakes import (
    FakeClock,
    InMemoryOneTimeTokens,
    InMemoryUserRepository,
    RecordingMailer,
)
from tests.unit.application.conftest import Seed

DAY = timedelta(hours=24)
BASE = "https://app.example.com/"


@pytest.fixture
def job(
    users: InMemoryUserRepository,
    link_tokens: InMemoryOneTimeTokens,
    mailer: RecordingMailer,
    clock: FakeClock,
) -> SendVerificationEmailJob:
    return SendVerificationEmailJob(
        users, link_tokens, mailer, clock, AccountLinks(BASE), DAY
    )


@pytest.mark.parametrize("template", ["welcome", "verify_email"])
def test_the_email_links_to_the_app_with_a_fresh_verification_token(
    job: SendVerificationEmailJob,
    seed: Seed,
    link_tokens: InMemoryOneTimeTokens,
    mailer: RecordingMailer,
    clock: FakeClock,
    template: str,
) -> None:
    alice = seed("Alice", email="Alice@Example.com")

    result = job.run({"user_id": alice.id, "template": template})

    assert result == {"sent": True}
    (email,) = mailer.sent
    assert (email.to, email.template) == ("Alice@Example.com", template)
    assert email.context["username"] == "Alice"
    assert email.context["expires_in"] == "24 hours"
    link = urlsplit(email.context["link"])
    assert f"{link.scheme}://{link.netloc}{link.path}" == (
        "https://app.example.com/verify-email"
    )
    (token,) = parse_qs(link.query)["token"]
    assert link_tokens.live("verify_email", alice.id, clock.now()) == 1
    assert link_tokens.consume("verify_email", token, clock.now()) == LinkGrant(
        alice.id, 0
    )


@pytest.mark.parametrize("state", ["verified", "deactivated", "gone"])
def test_nobody_is_emailed_who_needs_no_verification(
    job: SendVerificationEmailJob,
    seed: Seed,
    users: InMemoryUserRepository,
    link_tokens: InMemoryOneTimeTokens,
    mailer: RecordingMailer,
    state: str,
) -> None:
    alice = seed("alice", active=state != "deactivated")
    if state == "verified":
        users.save(replace(alice, email_verified=True))
    if state == "gone":
        users.remove(alice)

    result = job.run({"user_id": alice.id, "template": "welcome"})

    assert result == {"sent": False}
    assert mailer.sent == []
    assert link_tokens.calls["issue"] == 0


def test_a_template_that_is_not_a_verification_email_is_refused(
    job: SendVerificationEmailJob, seed: Seed, mailer: RecordingMailer
) -> None:
    alice = seed("alice")

    with pytest.raises(InvalidPayload):
        job.run({"user_id": alice.id, "template": "password_reset"})

    assert mailer.sent == []
