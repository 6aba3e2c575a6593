"""Billing end to end on the local stack: real HTTP to ``strata dev``, whose Stripe
adapter talks to the local Stripe emulator over HTTP, whose signed webhooks come
back to the stack's webhook endpoint. Time moves with ``strata stripe advance``,
which moves the emulator's clock and the API's together.

The module's tests share one stack, and advancing its clock moves it for all of
them: each test uses users of its own and logs in again after an advance (a
session does not outlive 30 minutes of moved time).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import itertools
import json
import re
import secrets
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from functions.runtime.settings import LOCAL_STRIPE_API_KEY
from tests.e2e.conftest import DevProcess, buy, settle, stripe_cli
from tests.e2e.test_jobs_and_email import link_token, wait_for_email
from tests.e2e.test_local_stack import Credentials, new_client, sign_up
from tests.stripe_local import sign

pytestmark = pytest.mark.e2e

DAY = 24 * 3600


def log_in(stack: DevProcess, who: Credentials) -> httpx.Client:
    client = new_client(stack)
    response = client.post(
        "/api/v1/account/login",
        json={"username": who.username, "password": who.password},
    )
    assert response.status_code == 204, response.text
    return client


def me(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/api/v1/account/me")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def read_email(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


_serial = itertools.count(1)


@pytest.fixture
def customer(stack: DevProcess) -> Iterator[Any]:
    """A new user, signed up, email verified (buying needs it) and logged in:
    (credentials, client)."""
    name = f"buyer{next(_serial):03d}"
    with new_client(stack) as anonymous:
        who = sign_up(anonymous, name)
        path, _ = wait_for_email(stack.outbox, f"{name}@example.com")
        verified = anonymous.post(
            "/api/v1/account/verify-email",
            json={"token": link_token(read_email(path))},
        )
        assert verified.status_code == 204, verified.text
    client = log_in(stack, who)
    try:
        yield who, client
    finally:
        client.close()


def test_a_free_user_checks_out_pro_and_me_shows_pro_once_the_webhooks_arrive(
    stack: DevProcess, customer: Any
) -> None:
    who, client = customer
    before = me(client)
    assert before["plan"] == "free"
    assert before["subscription_status"] is None
    assert client.post("/api/v1/users/export").status_code in (402, 403)

    buy(stack, client)

    after = me(client)
    assert after["plan"] == "pro"
    assert after["subscription_status"] == "active"
    assert after["current_period_end"] is not None
    assert after["cancel_at_period_end"] is False
    assert after["entitlements"]["features"] == ["users_export"]
    started, _ = wait_for_email(stack.outbox, f"{who.username}@example.com")
    welcome_or_started = {read_email(started)["Subject"]}
    # The welcome email may come first; the subscription email follows it.
    if not any("subscription" in s for s in welcome_or_started):
        seen = frozenset({started})
        second, _ = wait_for_email(stack.outbox, f"{who.username}@example.com", seen)
        welcome_or_started.add(read_email(second)["Subject"])
    assert any("Pro subscription has started" in s for s in welcome_or_started)
    # Buying what you have is a conflict, not a second subscription.
    again = client.post(
        "/api/v1/billing/checkout",
        json={"plan": "pro", "interval": "month", "currency": "usd"},
    )
    assert again.status_code == 409, again.text
    invoices = client.get("/api/v1/billing/invoices").json()["items"]
    assert [(i["status"], i["amount_paid"]) for i in invoices] == [("paid", 1500)]


def test_a_failed_renewal_keeps_pro_through_the_grace_period_then_falls_to_free(
    stack: DevProcess, customer: Any
) -> None:
    who, client = customer
    buy(stack, client)
    subscription = client.get("/api/v1/billing/subscription").json()
    client.close()
    # The card keeps failing, Stripe's retries of the renewal included.
    stripe_cli(stack, "fail-next-payment", subscription["id"], "--times", "4")

    # Past the period end: the renewal payment fails.
    stripe_cli(stack, "advance", "--days", "31")
    settle(stack)

    with contextlib.closing(log_in(stack, who)) as client:
        inside = me(client)
        assert inside["subscription_status"] == "past_due"
        assert inside["plan"] == "pro"
        assert inside["entitlements"]["grace_until"] is not None
    emails = sorted(stack.outbox.glob(f"*-{who.username}@example.com-*.eml"))
    failed = [read_email(p) for p in emails if p.name.endswith("payment_failed.eml")]
    assert len(failed) == 1
    body = failed[0].get_body(preferencelist=("plain",))
    assert body is not None
    assert f"{stack.stripe_url}/invoices/" in body.get_content()

    # Eight days on, the grace period (7 days from the failure) is over.
    stripe_cli(stack, "advance", "--days", "8")
    settle(stack)

    with contextlib.closing(log_in(stack, who)) as client:
        after = me(client)
        assert after["plan"] == "free"
        assert after["entitlements"]["features"] == []
        assert after["entitlements"]["grace_until"] is None


def test_a_cancellation_keeps_the_plan_until_the_period_ends(
    stack: DevProcess, customer: Any
) -> None:
    who, client = customer
    buy(stack, client)

    canceled = client.post("/api/v1/billing/subscription/cancel")

    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["cancel_at_period_end"] is True
    assert me(client)["plan"] == "pro"
    assert me(client)["cancel_at_period_end"] is True
    # Changing one's mind before the end is possible ...
    resumed = client.post("/api/v1/billing/subscription/resume")
    assert resumed.json()["cancel_at_period_end"] is False
    # ... and cancelling again ends it at the period end.
    assert client.post("/api/v1/billing/subscription/cancel").status_code == 200
    client.close()

    stripe_cli(stack, "advance", "--days", "32")
    settle(stack)

    with contextlib.closing(log_in(stack, who)) as client:
        after = me(client)
        assert after["plan"] == "free"
        assert after["subscription_status"] == "canceled"
    emails = sorted(stack.outbox.glob(f"*-{who.username}@example.com-*.eml"))
    assert any(p.name.endswith("subscription_canceled.eml") for p in emails)


def test_a_plan_change_with_its_preview_date_charges_the_previewed_amount(
    stack: DevProcess, customer: Any
) -> None:
    who, client = customer
    buy(stack, client)
    client.close()
    stripe_cli(stack, "advance", "--days", "10")
    settle(stack)
    change = {"plan": "business", "interval": "month"}

    with contextlib.closing(log_in(stack, who)) as client:
        preview = client.post(
            "/api/v1/billing/subscription/change",
            params={"preview": "true"},
            json=change,
        )
        assert preview.status_code == 200, preview.text
        quoted = preview.json()
        assert 0 < quoted["amount_due"] < 4900 - 1500
        assert quoted["currency"] == "usd"

        changed = client.post(
            "/api/v1/billing/subscription/change",
            json={**change, "proration_token": quoted["proration_token"]},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["subscribed_plan"] == "business"
        settle(stack)

        newest = client.get("/api/v1/billing/invoices", params={"limit": 1}).json()
        assert newest["items"][0]["amount_due"] == quoted["amount_due"]
        assert newest["next_cursor"] is not None
        assert me(client)["plan"] == "business"


# --- the money holes of issue 11, over HTTP ------------------------------------------


def test_a_forged_proration_token_is_refused_and_changes_nothing(
    stack: DevProcess, customer: Any
) -> None:
    _, client = customer
    buy(stack, client)
    change = {"plan": "business", "interval": "month"}
    quoted = client.post(
        "/api/v1/billing/subscription/change", params={"preview": "true"}, json=change
    ).json()
    payload, mac = quoted["proration_token"].split(".")

    for token in (f"{payload}A.{mac}", "0.0"):
        refused = client.post(
            "/api/v1/billing/subscription/change",
            json={**change, "proration_token": token},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "invalid_proration_token"
    raw = client.post(
        "/api/v1/billing/subscription/change", json={**change, "proration_date": 0}
    )
    assert raw.status_code == 422, raw.text
    assert me(client)["plan"] == "pro"


def test_an_unpaid_plan_change_leaves_the_plan_paid_for(
    stack: DevProcess, customer: Any
) -> None:
    who, client = customer
    buy(stack, client)
    subscription = client.get("/api/v1/billing/subscription").json()
    stripe_cli(stack, "fail-next-payment", subscription["id"])

    failed = client.post(
        "/api/v1/billing/subscription/change", json={"plan": "business"}
    )

    assert failed.status_code == 402, failed.text
    assert failed.json()["code"] == "payment_failed"
    assert failed.json()["payment_url"].startswith(f"{stack.stripe_url}/invoices/")
    settle(stack)
    assert me(client)["plan"] == "pro"
    client.close()

    stripe_cli(stack, "advance", "--days", "8")
    settle(stack)

    with contextlib.closing(log_in(stack, who)) as again:
        later = me(again)
        assert (later["plan"], later["subscription_status"]) == ("pro", "active")


def test_an_unpaid_bank_transfer_gives_no_plan(
    stack: DevProcess, customer: Any
) -> None:
    _, client = customer

    started = client.post(
        "/api/v1/billing/checkout",
        json={"plan": "business", "payment_method": "bank_transfer"},
    )

    assert started.status_code == 200, started.text
    settle(stack)
    unpaid = me(client)
    assert (unpaid["plan"], unpaid["subscription_status"]) == ("free", "incomplete")


def test_an_unverified_account_cannot_buy_so_the_purge_never_meets_a_payer(
    stack: DevProcess,
) -> None:
    name = f"unver{next(_serial):03d}"
    with new_client(stack) as anonymous:
        who = sign_up(anonymous, name)
    with contextlib.closing(log_in(stack, who)) as client:
        refused = client.post("/api/v1/billing/checkout", json={"plan": "pro"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "email_not_verified"


def test_a_signed_checkout_naming_another_user_hands_nothing_over(
    stack: DevProcess, customer: Any
) -> None:
    _, victim = customer
    buy(stack, victim)
    subscription = victim.get("/api/v1/billing/subscription").json()
    customer_id = stack_customer_of(stack, me(victim)["email"])
    name = f"thief{next(_serial):03d}"
    with new_client(stack) as anonymous:
        thief_who = sign_up(anonymous, name)
    with contextlib.closing(log_in(stack, thief_who)) as thief:
        thief_id = me(thief)["id"]
        body = json.dumps(
            {
                "id": f"evt_forged{secrets.token_hex(6)}",
                "object": "event",
                "type": "checkout.session.completed",
                "created": int(time.time()),
                "data": {
                    "object": {
                        "id": "cs_forged",
                        "object": "checkout.session",
                        "mode": "subscription",
                        "customer": customer_id,
                        "subscription": subscription["id"],
                        "client_reference_id": thief_id,
                        "metadata": {"user_id": thief_id},
                        "status": "complete",
                    }
                },
            }
        )
        delivered = httpx.post(
            f"{stack.url}/api/v1/webhooks/stripe",
            content=body,
            headers={
                "Stripe-Signature": sign(body),
                "Content-Type": "application/json",
            },
            timeout=10,
        )
        assert delivered.status_code == 200, delivered.text

        stolen = me(thief)
        assert (stolen["plan"], stolen["subscription_status"]) == ("free", None)
    assert me(victim)["plan"] == "pro"


def stack_customer_of(stack: DevProcess, email_address: str) -> str:
    response = httpx.get(
        f"{stack.stripe_url}/v1/customers",
        params={"email": email_address},
        headers={"Authorization": f"Bearer {LOCAL_STRIPE_API_KEY}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    customer_id: str = response.json()["data"][0]["id"]
    return customer_id


def test_a_day_on_the_schedules_runs_each_job_on_its_familys_worker(
    stack: DevProcess,
) -> None:
    """The stack's scheduler submits the purge and the reconciliation; each family's
    poller hands its own to its own worker, which runs it (the console line names
    the worker: ``task     <job> <id> on the <family> worker: succeeded``)."""
    stripe_cli(stack, "advance", "--days", "1")
    settle(stack)
    wanted = {("purge_unverified", "users"), ("reconcile_subscriptions", "billing")}
    succeeded = re.compile(r" task +(\w+) \w+ on the (\w+) worker: succeeded ")
    ran: set[tuple[str, str]] = set()
    deadline = time.monotonic() + 60
    while not wanted <= ran and time.monotonic() < deadline:
        ran = {(found[1], found[2]) for found in succeeded.finditer(stack.output())}
        time.sleep(0.5)

    assert wanted <= ran, stack.output()[-4000:]
    assert "refused by the" not in stack.output()
