"""The email templates: every message renders its three parts, the HTML escaped,
the text not, and a missing value fails instead of leaving a hole."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from core.adapters.email.outbox import Outbox
from core.adapters.email.render import RenderedEmail, TemplateRenderer, UnknownTemplate
from core.application.account_emails import (
    ORG_INVITATION,
    PASSWORD_RESET,
    SIGNUP_ATTEMPT,
    VERIFY_EMAIL,
    WELCOME,
)
from core.application.commands.handle_stripe_event import EMAILS as BILLING_EMAILS
from core.application.commands.handle_stripe_event import ORG_EMAILS

CONTEXT = {
    "username": "alice",
    "link": "https://app.example.com/verify-email?token=tok&x=1",
    "expires_in": "24 hours",
}
HOSTILE = {
    "username": '<script>alert("x")</script>\r\nBcc: evil@example.com',
    "link": 'https://app.example.com/?token="><img src=x>',
    "expires_in": "1 hour",
}


@pytest.fixture(scope="module")
def renderer() -> TemplateRenderer:
    return TemplateRenderer()


def test_the_messages_are_exactly_the_ones_the_application_names(
    renderer: TemplateRenderer,
) -> None:
    assert renderer.names() == sorted(
        [
            WELCOME,
            VERIFY_EMAIL,
            PASSWORD_RESET,
            SIGNUP_ATTEMPT,
            ORG_INVITATION,
            *BILLING_EMAILS.values(),
            *ORG_EMAILS.values(),
        ]
    )


def test_the_sign_up_attempt_message_renders_without_a_context(
    renderer: TemplateRenderer,
) -> None:
    email = renderer.render(SIGNUP_ATTEMPT, {})

    assert "sign up" in email.subject
    assert "No account was made" in email.text
    assert email.html.lstrip().lower().startswith("<!doctype html>")


@pytest.mark.parametrize("name", [WELCOME, VERIFY_EMAIL, PASSWORD_RESET])
def test_every_message_renders_a_subject_an_html_and_a_text_part_with_the_link(
    renderer: TemplateRenderer, name: str
) -> None:
    email = renderer.render(name, CONTEXT)

    assert email.subject
    assert "\n" not in email.subject
    assert email.html.lstrip().lower().startswith("<!doctype html>")
    assert "https://app.example.com/verify-email?token=tok&amp;x=1" in email.html
    assert "https://app.example.com/verify-email?token=tok&x=1" in email.text
    assert "<" not in email.text
    assert "24 hours" in email.text
    assert "alice" in email.text


@pytest.mark.parametrize("name", [WELCOME, VERIFY_EMAIL, PASSWORD_RESET])
def test_values_are_escaped_in_html_and_cannot_break_the_subject_line(
    renderer: TemplateRenderer, name: str
) -> None:
    email = renderer.render(name, HOSTILE)

    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html
    assert '"><img' not in email.html
    assert "\r" not in email.subject
    assert "\n" not in email.subject
    # Plain text is not HTML: it carries the values as they are.
    assert HOSTILE["link"] in email.text


def test_a_missing_value_fails_the_render(renderer: TemplateRenderer) -> None:
    with pytest.raises(UndefinedError):
        renderer.render(WELCOME, {"username": "alice", "expires_in": "1 hour"})


@pytest.mark.parametrize("name", ["nope", "../welcome", "_layout", "Welcome", ""])
def test_an_unknown_or_malformed_template_name_is_refused(
    renderer: TemplateRenderer, name: str
) -> None:
    with pytest.raises(UnknownTemplate):
        renderer.render(name, CONTEXT)


def test_an_outbox_file_appears_whole_under_its_final_name(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "new" / "folder")
    email = RenderedEmail("Subject", "<p>hi</p>", "hi")

    path = outbox.write(
        "Strata <a@strata.local>", "b/../c@example.com", "welcome", email
    )

    assert path.parent == tmp_path / "new" / "folder"
    assert path.name.endswith("-b_.._c@example.com-welcome.eml")
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_writing_to_the_outbox_logs_the_recipient_subject_and_file_not_the_body(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    link = "http://127.0.0.1:8000/verify-email?token=abc-123"
    email = RenderedEmail("Verify your email", "<p>hi</p>", f"Open\n{link}\nThanks")

    with caplog.at_level(logging.INFO, logger="strata.outbox"):
        path = Outbox(tmp_path).write("a@strata.local", "b@example.com", "x", email)

    (record,) = [r for r in caplog.records if r.name == "strata.outbox"]
    fields = (record.to, record.subject, record.file)  # type: ignore[attr-defined]
    assert fields == ("b@example.com", "Verify your email", str(path))
    assert not any("abc-123" in str(value) for value in vars(record).values())


BILLING_CONTEXT = {
    "username": "alice",
    "plan": "Pro",
    "period_end": "2026-12-27",
    "trial_end": "2026-12-11",
    "grace_until": "2026-12-04",
    "amount": "15.00 USD",
    "pay_url": "https://pay.example.com/in_1?x=1&y=2",
}


@pytest.mark.parametrize("name", sorted(set(BILLING_EMAILS.values())))
def test_billing_messages_render_with_every_value_they_may_carry(
    renderer: TemplateRenderer, name: str
) -> None:
    email = renderer.render(name, BILLING_CONTEXT)

    assert email.subject
    assert "\n" not in email.subject
    assert "alice" in email.text
    assert "<" not in email.text
    if name.startswith("payment"):
        assert "https://pay.example.com/in_1?x=1&y=2" in email.text
        assert "https://pay.example.com/in_1?x=1&amp;y=2" in email.html
        assert "15.00 USD" in email.text


@pytest.mark.parametrize("name", sorted(set(BILLING_EMAILS.values())))
def test_billing_messages_render_with_only_the_username(
    renderer: TemplateRenderer, name: str
) -> None:
    # Every value but the username is optional: an event may lack the invoice or
    # the period end, and the email must still go out.
    email = renderer.render(name, {"username": "alice"})

    assert "alice" in email.text
    assert "{{" not in email.text


def test_the_invitation_escapes_the_org_name_and_inviter_in_html(
    renderer: TemplateRenderer,
) -> None:
    email = renderer.render(
        ORG_INVITATION,
        {
            "org_name": "<b>Acme</b>",
            "inviter": "<script>x</script>",
            "role": "member",
            "link": "https://app.example.com/accept-invitation?token=tok",
            "expires_in": "7 days",
        },
    )

    assert "<b>Acme</b>" not in email.html
    assert "&lt;b&gt;Acme&lt;/b&gt;" in email.html
    assert "<script>" not in email.html
    assert "https://app.example.com/accept-invitation?token=tok" in email.text
    assert "7 days" in email.text


ORG_CONTEXT = {**BILLING_CONTEXT, "org_name": "Acme"}


@pytest.mark.parametrize("name", sorted(ORG_EMAILS.values()))
def test_org_billing_messages_name_the_org_to_its_owner(
    renderer: TemplateRenderer, name: str
) -> None:
    full = renderer.render(name, ORG_CONTEXT)
    bare = renderer.render(name, {"username": "alice", "org_name": "Acme"})

    for email in (full, bare):
        assert email.subject.startswith("Acme: ")
        assert "\n" not in email.subject
        assert "alice" in email.text
        assert "Acme" in email.text
        assert "Acme" in email.html
        assert "{{" not in email.text
    if name == "org_payment_failed":
        assert "https://pay.example.com/in_1?x=1&y=2" in full.text
        assert "https://pay.example.com/in_1?x=1&amp;y=2" in full.html


@pytest.mark.parametrize("name", sorted(ORG_EMAILS.values()))
def test_an_org_name_is_escaped_in_html_and_cannot_break_the_subject(
    renderer: TemplateRenderer, name: str
) -> None:
    hostile = {"username": "alice", "org_name": "<b>Acme</b>\r\nBcc: x@evil.example"}

    email = renderer.render(name, hostile)

    assert "<b>Acme</b>" not in email.html
    assert "&lt;b&gt;Acme&lt;/b&gt;" in email.html
    assert "\r" not in email.subject
    assert "\n" not in email.subject
