"""``SesMailer`` against moto's SES v2, and the local outbox it also writes to."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from core.adapters.email.outbox import TEMPLATE_HEADER, Outbox
from core.adapters.email.ses import SesMailer
from core.application.errors import DependencyUnavailable, PermanentFailure

SENDER_ADDRESS = "no-reply@strata.local"
SENDER = f"Strata <{SENDER_ADDRESS}>"
CONTEXT = {
    "username": "alice",
    "link": "https://app.example.com/verify-email?token=abc&x=1",
    "expires_in": "24 hours",
}


def sesv2() -> Any:
    import botocore.session

    return botocore.session.get_session().create_client(
        "sesv2", region_name="us-east-1"
    )


def sent_messages() -> list[Any]:
    """What moto's SES took, read from its backend (the server runs in-process)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


@pytest.fixture
def identity(tables: None) -> None:
    """SES sends only from a verified identity: moto checks it too."""
    sesv2().create_email_identity(EmailIdentity=SENDER_ADDRESS)


def read_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_a_message_is_sent_through_ses_with_its_subject_and_parts(
    identity: None,
) -> None:
    mailer = SesMailer(SENDER, region="us-east-1")

    mailer.send("alice@example.com", "welcome", CONTEXT)

    (message,) = sent_messages()
    assert message.source == SENDER
    assert message.destinations["ToAddresses"] == ["alice@example.com"]
    assert message.subject == "Welcome to Strata, alice: please confirm your email"
    # moto keeps the HTML part of a Simple message; the link is escaped in it.
    assert "https://app.example.com/verify-email?token=abc&amp;x=1" in message.body


def test_a_message_ses_rejects_is_a_permanent_failure(
    tables: None, tmp_path: Path
) -> None:
    # SES's MessageRejected (here: an unverified sender) does not change on a
    # retry: the task fails at once instead of going round to the dead letters.
    mailer = SesMailer(
        "Nobody <nobody@unverified.example>",
        region="us-east-1",
        outbox=Outbox(tmp_path),
    )

    with pytest.raises(PermanentFailure, match="MessageRejected"):
        mailer.send("alice@example.com", "welcome", CONTEXT)

    assert sent_messages() == []
    assert list(tmp_path.iterdir()) == []


def test_with_an_outbox_every_sent_message_is_also_a_parseable_eml_file(
    identity: None, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    mailer = SesMailer(SENDER, region="us-east-1", outbox=Outbox(outbox))

    mailer.send("Alice+test@Example.com", "password_reset", CONTEXT)

    assert len(sent_messages()) == 1
    (path,) = outbox.iterdir()
    assert path.name.endswith("-Alice+test@Example.com-password_reset.eml")
    message = read_eml(path)
    assert message["From"] == SENDER
    assert message["To"] == "Alice+test@Example.com"
    assert message["Subject"] == "Reset your Strata password"
    assert message[TEMPLATE_HEADER] == "password_reset"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert CONTEXT["link"] in text.get_content()
    assert "token=abc&amp;x=1" in html.get_content()


def test_outbox_files_sort_in_sending_order_and_leave_no_temporary_files(
    identity: None, tmp_path: Path
) -> None:
    mailer = SesMailer(SENDER, region="us-east-1", outbox=Outbox(tmp_path))

    for template in ("welcome", "verify_email", "password_reset"):
        mailer.send("alice@example.com", template, CONTEXT)

    names = sorted(p.name for p in tmp_path.iterdir())
    assert [n.rsplit("-", 1)[1] for n in names] == [
        "welcome.eml",
        "verify_email.eml",
        "password_reset.eml",
    ]
    assert all(n.endswith(".eml") and not n.startswith(".") for n in names)


def test_a_configuration_set_goes_with_the_request(
    identity: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    mailer = SesMailer(SENDER, "strata-dev-email", region="us-east-1")
    seen: list[dict[str, Any]] = []
    client = mailer._client.get()

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(params)

    client.meta.events.register("provide-client-params.sesv2.SendEmail", record)
    try:
        mailer.send("alice@example.com", "welcome", CONTEXT)
    finally:
        client.meta.events.unregister("provide-client-params.sesv2.SendEmail", record)

    (params,) = seen
    assert params["ConfigurationSetName"] == "strata-dev-email"
    body = params["Content"]["Simple"]["Body"]
    assert set(body) == {"Html", "Text"}
    assert body["Text"]["Charset"] == "UTF-8"


@pytest.mark.parametrize(
    ("code", "permanent"),
    [
        ("MessageRejected", True),
        ("InvalidParameterValue", True),
        ("BadRequestException", True),
        ("AccountSuppressedException", True),
        ("TooManyRequestsException", False),
        ("ThrottlingException", False),
        ("InternalFailure", False),
    ],
)
def test_only_ses_refusals_no_retry_can_change_are_permanent(
    identity: None, code: str, permanent: bool
) -> None:
    mailer = SesMailer(SENDER, region="us-east-1")
    client = mailer._client.get()

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": "no"}}, "SendEmail")

    client.meta.events.register("before-call.sesv2.SendEmail", refuse)
    try:
        expected = PermanentFailure if permanent else DependencyUnavailable
        with pytest.raises(expected):
            mailer.send("alice@example.com", "welcome", CONTEXT)
    finally:
        client.meta.events.unregister("before-call.sesv2.SendEmail", refuse)
