from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from core.application.account_emails import AccountLinks
from core.application.jobs.send_password_reset import SendPasswordResetJob
from core.application.ports import LinkGrant
from tests.fakes import (
    FakeClock,
    InMemoryOneTimeTokens,
    InMemoryUserRepository,
    RecordingMailer,
)
from tests.unit.application.conftest import Seed

HOUR = timedelta(hours=1)


@pytest.fixture
def job(
    users: InMemoryUserRepository,
    link_tokens: InMemoryOneTimeTokens,
    mailer: RecordingMailer,
    clock: FakeClock,
) -> SendPasswordResetJob:
    return SendPasswordResetJob(
        users, link_tokens, mailer, clock, AccountLinks("https://app.example.com"), HOUR
    )


def test_an_active_account_gets_a_reset_link_with_a_one_hour_token(
    job: SendPasswordResetJob,
    seed: Seed,
    link_tokens: InMemoryOneTimeTokens,
    mailer: RecordingMailer,
    clock: FakeClock,
) -> None:
    alice = seed("alice", email="Alice@Example.com")

    result = job.run({"email": "alice@example.com"})

    assert result == {"sent": True}
    (email,) = mailer.sent
    assert (email.to, email.template) == ("Alice@Example.com", "password_reset")
    assert email.context["expires_in"] == "1 hour"
    link = urlsplit(email.context["link"])
    assert link.path == "/reset-password"
    (token,) = parse_qs(link.query)["token"]
    clock.advance(HOUR - timedelta(seconds=1))
    assert link_tokens.consume("password_reset", token, clock.now()) == LinkGrant(
        alice.id, 0
    )


def test_the_reset_token_expires_after_an_hour(
    job: SendPasswordResetJob,
    seed: Seed,
    link_tokens: InMemoryOneTimeTokens,
    mailer: RecordingMailer,
    clock: FakeClock,
) -> None:
    seed("alice")
    job.run({"email": "alice@example.com"})
    (token,) = parse_qs(urlsplit(mailer.sent[0].context["link"]).query)["token"]

    clock.advance(HOUR)

    assert link_tokens.consume("password_reset", token, clock.now()) is None


@pytest.mark.parametrize("case", ["unknown", "deactivated"])
def test_no_email_goes_to_an_unknown_address_or_a_deactivated_account(
    job: SendPasswordResetJob,
    seed: Seed,
    link_tokens: InMemoryOneTimeTokens,
    mailer: RecordingMailer,
    case: str,
) -> None:
    seed("alice", active=False)

    email = "nobody@example.com" if case == "unknown" else "alice@example.com"
    result = job.run({"email": email})

    assert result == {"sent": False}
    assert mailer.sent == []
    assert link_tokens.calls["issue"] == 0
