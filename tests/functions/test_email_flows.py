"""Email verification and password reset through the Lambda handlers: requests only
queue, the task worker (fed from moto's SQS) sends through moto's SES, and the
links in the emails (read from the outbox) drive the next requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.adapters.email.outbox import Outbox
from core.adapters.email.ses import SesMailer
from core.domain.user import Role
from tests.conftest import aws_client
from tests.functions.conftest import PASSWORD, Api, assert_problem
from tests.functions.mailbox import Mailbox, Worker, sqs_record

# The test looks at AWS state itself: the handlers run on moto.
pytestmark = pytest.mark.moto

NEW_PASSWORD = "a brand new password"


@pytest.fixture
def mailbox(container: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Mailbox:
    """The container's mailer, sending from a verified identity in moto's SES and
    writing every email it sends to an outbox folder."""
    settings = container.settings
    address = settings.email_from.rsplit("<", 1)[-1].rstrip(">")
    aws_client("sesv2").create_email_identity(EmailIdentity=address)
    folder = tmp_path / "outbox"
    mailer = SesMailer(
        settings.email_from,
        settings.ses_configuration_set,
        Outbox(folder),
        region=settings.region,
    )
    monkeypatch.setattr(container, "mailer", mailer)
    return Mailbox(folder)


@pytest.fixture
def worker(container: Any) -> Worker:
    return Worker(container.settings.email_task_queue_url)


def sign_up(api: Api, username: str) -> dict[str, Any]:
    reply = api.call(
        "signup",
        json_body={
            "username": username,
            "email": f"{username}@example.com",
            "password": PASSWORD,
        },
    )
    assert reply.status == 201, reply.text
    body: dict[str, Any] = reply.json()
    return body


def me(api: Api, cookie: str) -> dict[str, Any]:
    reply = api.call("me", cookies=[cookie])
    assert reply.status == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


# -- sign-up and verification ----------------------------------------------------------


def test_a_sign_up_only_queues_the_welcome_email_and_the_worker_sends_it(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    sign_up(api, "alice01")
    assert mailbox.messages() == []

    assert worker.drain() == 1

    (welcome,) = mailbox.messages("alice01@example.com")
    assert welcome["X-Strata-Template"] == "welcome"
    assert welcome.get_content_type() == "multipart/alternative"
    text = welcome.get_body(preferencelist=("plain",))
    assert text is not None
    base = api.container.settings.app_base_url.rstrip("/")
    assert f"{base}/verify-email?token=" in text.get_content()


def test_the_welcome_link_verifies_the_email_and_me_shows_it(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    sign_up(api, "alice01")
    worker.drain()
    cookie = api.log_in("alice01")
    assert me(api, cookie)["email_verified"] is False
    token = mailbox.token("alice01@example.com", "welcome")

    reply = api.call("verify_email", json_body={"token": token})

    assert reply.status == 204, reply.text
    assert reply.text == ""
    assert me(api, cookie)["email_verified"] is True


def test_a_used_verification_token_answers_400_invalid_token(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    sign_up(api, "alice01")
    worker.drain()
    token = mailbox.token("alice01@example.com", "welcome")
    assert api.call("verify_email", json_body={"token": token}).status == 204

    reply = api.call("verify_email", json_body={"token": token})

    assert_problem(reply, 400, "invalid_token")


@pytest.mark.parametrize(
    "token", ["not-a-token-we-issued", "x" * 256, "password-reset-looking"]
)
def test_an_unknown_verification_token_answers_400_and_changes_nothing(
    api: Api, mailbox: Mailbox, worker: Worker, token: str
) -> None:
    body = sign_up(api, "alice01")
    worker.drain()

    reply = api.call("verify_email", json_body={"token": token})

    assert_problem(reply, 400, "invalid_token")
    stored = api.container.users.get(body["id"])
    assert stored.email_verified is False
    # The real link still works afterwards.
    real = mailbox.token("alice01@example.com", "welcome")
    assert api.call("verify_email", json_body={"token": real}).status == 204


def test_a_password_reset_token_does_not_verify_an_email(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    body = sign_up(api, "alice01")
    reply = api.call("password_reset", json_body={"email": "alice01@example.com"})
    assert reply.status == 202
    worker.drain()
    reset = mailbox.token("alice01@example.com", "password_reset")

    refused = api.call("verify_email", json_body={"token": reset})

    assert_problem(refused, 400, "invalid_token")
    assert api.container.users.get(body["id"]).email_verified is False


@pytest.mark.parametrize(
    "body",
    [{}, {"token": ""}, {"token": "x" * 257}, {"token": 7}, {"token": "a", "x": 1}],
)
def test_a_malformed_verification_body_is_a_422(api: Api, body: dict[str, Any]) -> None:
    reply = api.call("verify_email", json_body=body)

    assert_problem(reply, 422, "invalid_input")


# -- resend ----------------------------------------------------------------------------


def test_resend_queues_a_new_verification_email_with_a_working_link(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    sign_up(api, "alice01")
    worker.drain()
    cookie = api.log_in("alice01")

    reply = api.call("resend_verification", cookies=[cookie])

    assert reply.status == 202, reply.text
    assert reply.json() == {"queued": True}
    assert worker.drain() == 1
    token = mailbox.token("alice01@example.com", "verify_email")
    assert token != mailbox.token("alice01@example.com", "welcome")
    assert api.call("verify_email", json_body={"token": token}).status == 204


def test_resend_for_a_verified_email_answers_202_and_sends_nothing(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    sign_up(api, "alice01")
    worker.drain()
    token = mailbox.token("alice01@example.com", "welcome")
    assert api.call("verify_email", json_body={"token": token}).status == 204
    cookie = api.log_in("alice01")

    reply = api.call("resend_verification", cookies=[cookie])

    assert reply.status == 202, reply.text
    assert reply.json() == {"queued": False}
    assert worker.drain() == 0
    assert len(mailbox.messages()) == 1


def test_resend_needs_a_session(api: Api, mailbox: Mailbox, worker: Worker) -> None:
    reply = api.call("resend_verification")

    assert_problem(reply, 401, "not_authenticated")
    assert worker.drain() == 0


# -- password reset --------------------------------------------------------------------


def test_a_password_reset_request_answers_the_same_for_a_known_and_an_unknown_email(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    api.user("alice01")

    known = api.call("password_reset", json_body={"email": "alice01@example.com"})
    unknown = api.call("password_reset", json_body={"email": "nobody@example.com"})

    assert (known.status, unknown.status) == (202, 202)
    assert known.json() == unknown.json()
    assert known.text == unknown.text
    assert known.headers["content-type"] == unknown.headers["content-type"]
    # Each request queued one task; only the known address gets an email.
    assert worker.drain() == 2
    (sent,) = mailbox.messages()
    assert sent["To"] == "alice01@example.com"
    assert sent["X-Strata-Template"] == "password_reset"


def test_a_deactivated_account_gets_no_reset_email(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    root = api.user("root0001", Role.SUPER_ADMIN)
    api.user("alice01")
    api.container.deactivate_user().execute(root, "alice01")

    reply = api.call("password_reset", json_body={"email": "alice01@example.com"})

    assert reply.status == 202
    worker.drain()
    assert mailbox.messages() == []


def test_the_reset_link_sets_the_password_and_ends_every_session(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    api.user("alice01")
    phone = api.log_in("alice01")
    laptop = api.log_in("alice01")
    api.call("password_reset", json_body={"email": "ALICE01@example.com"})
    worker.drain()
    token = mailbox.token("alice01@example.com", "password_reset")

    reply = api.call(
        "password_reset_confirm", json_body={"token": token, "password": NEW_PASSWORD}
    )

    assert reply.status == 204, reply.text
    for cookie in (phone, laptop):
        assert_problem(api.call("me", cookies=[cookie]), 401, "not_authenticated")
    bad = api.call("login", json_body={"username": "alice01", "password": PASSWORD})
    assert_problem(bad, 401, "invalid_credentials")
    cookie = api.log_in("alice01", NEW_PASSWORD)
    # Following the link proved the mailbox.
    assert me(api, cookie)["email_verified"] is True


def test_a_used_reset_token_answers_400_and_changes_nothing(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    api.user("alice01")
    api.call("password_reset", json_body={"email": "alice01@example.com"})
    worker.drain()
    token = mailbox.token("alice01@example.com", "password_reset")
    body = {"token": token, "password": NEW_PASSWORD}
    assert api.call("password_reset_confirm", json_body=body).status == 204
    cookie = api.log_in("alice01", NEW_PASSWORD)

    reply = api.call(
        "password_reset_confirm",
        json_body={"token": token, "password": "a third password"},
    )

    assert_problem(reply, 400, "invalid_token")
    assert me(api, cookie)["username"] == "alice01"
    api.log_in("alice01", NEW_PASSWORD)


def test_an_unknown_reset_token_answers_400_and_changes_nothing(
    api: Api, mailbox: Mailbox
) -> None:
    api.user("alice01")
    cookie = api.log_in("alice01")

    reply = api.call(
        "password_reset_confirm",
        json_body={"token": "not-a-token-we-issued", "password": NEW_PASSWORD},
    )

    assert_problem(reply, 400, "invalid_token")
    assert me(api, cookie)["username"] == "alice01"
    api.log_in("alice01", PASSWORD)


def test_a_verification_token_cannot_reset_a_password(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    sign_up(api, "alice01")
    worker.drain()
    verify = mailbox.token("alice01@example.com", "welcome")

    reply = api.call(
        "password_reset_confirm", json_body={"token": verify, "password": NEW_PASSWORD}
    )

    assert_problem(reply, 400, "invalid_token")
    api.log_in("alice01", PASSWORD)


def test_a_password_the_policy_refuses_is_a_422_and_the_link_still_works(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    api.user("alice01")
    api.call("password_reset", json_body={"email": "alice01@example.com"})
    worker.drain()
    token = mailbox.token("alice01@example.com", "password_reset")

    reply = api.call(
        "password_reset_confirm", json_body={"token": token, "password": "short"}
    )

    problem = assert_problem(reply, 422, "invalid_password")
    assert problem["errors"][0]["loc"] == ["body", "password"]
    ok = api.call(
        "password_reset_confirm", json_body={"token": token, "password": NEW_PASSWORD}
    )
    assert ok.status == 204, ok.text


@pytest.mark.parametrize(
    "body", [{}, {"email": 7}, {"email": "not an email"}, {"email": "a@b.c", "x": 1}]
)
def test_a_malformed_reset_request_is_a_422_and_queues_nothing(
    api: Api, worker: Worker, body: dict[str, Any]
) -> None:
    reply = api.call("password_reset", json_body=body)

    assert reply.status == 422, reply.text
    assert worker.drain() == 0


# -- delivery --------------------------------------------------------------------------


def test_the_same_message_delivered_twice_sends_one_email(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    sign_up(api, "alice01")
    (message,) = worker.receive()
    record = sqs_record(message, worker.queue_url)

    first = worker.deliver([record])
    second = worker.deliver([dict(record, messageId="redelivered")])

    assert first == {"batchItemFailures": []}
    assert second == {"batchItemFailures": []}
    assert len(mailbox.messages()) == 1
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    assert len(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages) == 1


def test_a_reset_link_dies_when_the_password_changes_before_it_is_used(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    # Issue 12: links are bound to the user's epoch, which every password change
    # moves on; an old email in a mailbox is no way back into the account.
    api.user("alice01")
    api.call("password_reset", json_body={"email": "alice01@example.com"})
    worker.drain()
    token = mailbox.token("alice01@example.com", "password_reset")
    cookie = api.log_in("alice01")
    changed = api.call(
        "change_password",
        "/api/v1/users/alice01/password",
        json_body={"password": NEW_PASSWORD, "current_password": PASSWORD},
        cookies=[cookie],
    )
    assert changed.status == 204, changed.text

    reply = api.call(
        "password_reset_confirm",
        json_body={"token": token, "password": "an attackers password"},
    )

    assert_problem(reply, 400, "invalid_token")
    api.log_in("alice01", NEW_PASSWORD)


def test_a_sign_up_with_a_registered_email_tells_its_owner_and_makes_nothing(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    api.user("alice01")

    reply = sign_up_reply(api, "bobby01", "alice01@example.com")
    worker.drain()

    assert reply.status == 201
    (sent,) = mailbox.messages("alice01@example.com")
    assert sent["X-Strata-Template"] == "signup_attempt"
    assert api.container.users.get_by_username("bobby01") is None


def test_reset_requests_for_one_address_send_one_email_per_window(
    api: Api, mailbox: Mailbox, worker: Worker
) -> None:
    api.user("alice01")
    for n in range(5):
        reply = api.call(
            "password_reset",
            json_body={"email": "alice01@example.com"},
            source_ip=f"203.0.113.{n}",
        )
        assert reply.status == 202
    worker.drain()

    assert len(mailbox.messages("alice01@example.com")) == 1


def test_one_client_asking_for_many_reset_emails_gets_429(api: Api) -> None:
    limit = api.container.settings.email_per_client
    for n in range(limit):
        reply = api.call(
            "password_reset",
            json_body={"email": f"victim{n}@example.com"},
            source_ip="203.0.113.9",
        )
        assert reply.status == 202

    reply = api.call(
        "password_reset",
        json_body={"email": "victim99@example.com"},
        source_ip="203.0.113.9",
    )

    assert_problem(reply, 429, "too_many_attempts")
    assert int(reply.headers["retry-after"]) > 0


def sign_up_reply(api: Api, username: str, email: str) -> Any:
    return api.call(
        "signup",
        json_body={"username": username, "email": email, "password": PASSWORD},
    )
