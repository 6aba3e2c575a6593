"""Background jobs and email on the local stack, end to end: real HTTP to
``strata dev``, whose SQS pollers hand each family's task queue to its real worker,
whose mailer writes every email to the stack's outbox folder.

The time from a sign-up request to its email in the outbox is printed (``-s``);
``python -m tools.email_latency`` measures it on its own.
"""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from local.stack import use_local_aws
from tests.e2e.conftest import REPO, DevProcess, StartDev, buy
from tests.e2e.test_local_stack import (
    PASSWORD,
    Credentials,
    create_superadmin,
    new_client,
    sign_up,
)

pytestmark = pytest.mark.e2e

EMAIL_TIMEOUT = 10.0  # "within a few seconds", with room for a slow machine
EXPORT_TIMEOUT = 60.0
# The journey, not the scale: an export of thousands, paged exactly once, is
# tests/functions/test_task_worker.py's (the worker on moto, same adapters).
EXPORT_USERS = 25
NEW_PASSWORD = "e2e-new-password-2"
_URL = re.compile(r"https?://[^\s\"'<>]+")


def wait_for_email(
    outbox: Path, to: str, seen: frozenset[Path] = frozenset()
) -> tuple[Path, float]:
    """The first email to ``to`` in ``outbox`` that is not in ``seen``, and the
    seconds waited for it; fails after ``EMAIL_TIMEOUT``. The outbox writes each
    file whole (a rename), so a file that is there can be read."""
    started = time.monotonic()
    while True:
        found = sorted(set(outbox.glob(f"*-{to}-*.eml")) - seen)
        if found:
            return found[0], time.monotonic() - started
        if time.monotonic() - started > EMAIL_TIMEOUT:
            listed = sorted(p.name for p in outbox.glob("*.eml"))
            pytest.fail(f"no email to {to} within {EMAIL_TIMEOUT}s; outbox: {listed}")
        time.sleep(0.02)


def read_email(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def link_url(message: EmailMessage) -> str:
    """The link with a ``token`` query parameter in the plain-text part."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the email has no plain-text part"
    text = part.get_content()
    for url in _URL.findall(text):
        if parse_qs(urlsplit(url).query).get("token"):
            return str(url)
    raise AssertionError(f"no link with a token in:\n{text}")


def link_token(message: EmailMessage) -> str:
    """The ``token`` query parameter of the link in the plain-text part."""
    return parse_qs(urlsplit(link_url(message)).query)["token"][0]


def outbox_files(stack: DevProcess) -> frozenset[Path]:
    return frozenset(stack.outbox.glob("*.eml"))


@contextmanager
def logged_in(stack: DevProcess, who: Credentials) -> Iterator[httpx.Client]:
    """A client of its own (its own cookie jar) with ``who`` logged in."""
    with new_client(stack) as client:
        response = client.post(
            "/api/v1/account/login",
            json={"username": who.username, "password": who.password},
        )
        assert response.status_code == 204, response.text
        yield client


# --- email ------------------------------------------------------------------------


def test_the_outbox_is_where_the_stack_says(stack: DevProcess) -> None:
    assert f"written to {stack.outbox}" in stack.output()
    assert stack.outbox.is_dir()


def test_sign_up_emails_a_link_that_verifies_the_address(stack: DevProcess) -> None:
    address = "verify.me@example.com"
    with new_client(stack) as anonymous:
        sent = time.monotonic()
        who = sign_up(anonymous, "verify.me")
        path, _ = wait_for_email(stack.outbox, address)
        latency = time.monotonic() - sent
        print(f"\nsign-up to email in the outbox: {latency * 1000:.0f} ms")

        message = read_email(path)
        assert message["To"] == address
        assert "no-reply@strata.local" in message["From"]
        token = link_token(message)

        with logged_in(stack, who) as client:
            assert client.get("/api/v1/account/me").json()["email_verified"] is False

            verified = anonymous.post(
                "/api/v1/account/verify-email", json={"token": token}
            )
            assert verified.status_code == 204, verified.text

            assert client.get("/api/v1/account/me").json()["email_verified"] is True
        again = anonymous.post("/api/v1/account/verify-email", json={"token": token})
        assert again.status_code == 400
        assert again.json()["code"] == "invalid_token"
    assert latency < EMAIL_TIMEOUT


def test_the_emailed_link_opens_the_stacks_own_verification_page(
    stack: DevProcess,
) -> None:
    with new_client(stack) as anonymous:
        sign_up(anonymous, "link.opener")
        path, _ = wait_for_email(stack.outbox, "link.opener@example.com")
        url = link_url(read_email(path))

        assert url.startswith(f"{stack.url}/verify-email?token="), url
        page = anonymous.get(url.removeprefix(stack.url))

    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "Verify your email" in page.text
    assert link_token(read_email(path)) in page.text


def test_a_password_reset_link_sets_a_new_password_and_ends_old_sessions(
    stack: DevProcess,
) -> None:
    address = "forgetful@example.com"
    with new_client(stack) as anonymous:
        who = sign_up(anonymous, "forgetful")
        welcome, _ = wait_for_email(stack.outbox, address)
        with logged_in(stack, who) as old_session:
            assert old_session.get("/api/v1/account/me").status_code == 200

            asked = anonymous.post(
                "/api/v1/account/password-reset", json={"email": address}
            )
            assert asked.status_code == 202, asked.text
            path, _ = wait_for_email(stack.outbox, address, seen=frozenset({welcome}))
            token = link_token(read_email(path))

            confirmed = anonymous.post(
                "/api/v1/account/password-reset/confirm",
                json={"token": token, "password": NEW_PASSWORD},
            )
            assert confirmed.status_code == 204, confirmed.text

            assert old_session.get("/api/v1/account/me").status_code == 401
    with new_client(stack) as client:
        old = client.post(
            "/api/v1/account/login",
            json={"username": who.username, "password": PASSWORD},
        )
        assert old.status_code == 401
    with logged_in(stack, Credentials(who.username, NEW_PASSWORD)) as client:
        assert client.get("/api/v1/account/me").json()["username"] == who.username


def test_the_worker_ran_every_task_without_a_failure(stack: DevProcess) -> None:
    output = stack.output()

    assert "the task worker failed" not in output
    assert "Traceback" not in output


# --- exports ------------------------------------------------------------------------


def seed_users(stack: DevProcess, count: int) -> list[str]:
    """``count`` users written straight into the stack's table (no bcrypt)."""
    env = dict(stack.env)
    use_local_aws(stack.aws_port, env)
    result = subprocess.run(
        [sys.executable, "-m", "tests.e2e.seed_users", str(count)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ids = result.stdout.split()
    assert len(ids) == count
    return ids


def test_an_admin_who_buys_pro_exports_every_user_exactly_once(
    start_dev: StartDev,
) -> None:
    dev = start_dev()
    dev.wait_ready()
    seeded = seed_users(dev, EXPORT_USERS)
    made = create_superadmin(dev, "export.admin", "export.admin@example.com", PASSWORD)
    assert made.returncode == 0, made.stderr

    with logged_in(dev, Credentials("export.admin", PASSWORD)) as admin:
        admin_id = admin.get("/api/v1/account/me").json()["id"]
        # The export is a paid feature: on the free plan it is a 402 ...
        refused = admin.post("/api/v1/users/export")
        assert refused.status_code == 402, refused.text
        assert refused.json()["plans"] == ["pro", "business"]
        # ... until the admin buys Pro through the stack's Stripe emulator
        # (buying needs a verified email: the admin verifies theirs first).
        resent = admin.post("/api/v1/account/verify-email/resend")
        assert resent.status_code == 202, resent.text
        path, _ = wait_for_email(dev.outbox, "export.admin@example.com")
        verified = admin.post(
            "/api/v1/account/verify-email",
            json={"token": link_token(read_email(path))},
        )
        assert verified.status_code == 204, verified.text
        buy(dev, admin)
        asked = admin.post("/api/v1/users/export")
        assert asked.status_code == 202, asked.text
        task_id = asked.json()["task_id"]
        assert asked.headers["location"] == f"/api/v1/tasks/{task_id}"

        started = time.monotonic()
        while True:
            task = admin.get(f"/api/v1/tasks/{task_id}").json()
            if task["status"] in ("succeeded", "failed"):
                break
            if time.monotonic() - started > EXPORT_TIMEOUT:
                pytest.fail(f"the export is still {task['status']}:\n{dev.output()}")
            time.sleep(0.5)
        print(
            f"\nexport of {EXPORT_USERS + 1} users: "
            f"{time.monotonic() - started:.1f} s to succeed"
        )
    assert task["status"] == "succeeded", task
    result = task["result"]
    assert result["rows"] == EXPORT_USERS + 1

    with httpx.Client(timeout=30.0, trust_env=False) as client:
        download = client.get(result["url"])
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.text)))
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), "a user appears twice"
    assert set(ids) == {*seeded, admin_id}
