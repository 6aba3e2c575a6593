"""Issue 15's story end to end over HTTP on the local stack, billing included: an
owner creates an organization and subscribes it per seat (Checkout paid on the
Stripe emulator's page, webhooks delivered), invites two people by email, both
accept (one existing user, one after signing up and verifying through the emailed
link), the Stripe quantity follows to 3 (the stack's poller runs the billing
worker's ``sync_seats``), one is removed and the quantity is 2 with a proration
credit invoiced at the emulator, and the audit log lists every step in order.

Asynchronous steps (emails, webhooks, the seat sync) are polled with a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import pytest

from functions.runtime.settings import LOCAL_STRIPE_API_KEY
from tests.e2e.conftest import DevProcess, settle
from tests.e2e.test_jobs_and_email import logged_in, outbox_files
from tests.e2e.test_local_stack import new_client, sign_up
from tests.e2e.test_organizations import invitation_token, verify

pytestmark = pytest.mark.e2e

T = TypeVar("T")
SYNC_TIMEOUT = 60.0


def eventually(read: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """``read()`` again until ``done`` holds of it, or fail after the deadline
    with the last value read."""
    deadline = time.monotonic() + SYNC_TIMEOUT
    value = read()
    while not done(value):
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: still {value!r} after {SYNC_TIMEOUT}s")
        time.sleep(0.2)
        value = read()
    return value


def stripe_get(stack: DevProcess, path: str, **params: str) -> dict[str, Any]:
    """One read of the stack's Stripe emulator API, as the SDK would make it."""
    response = httpx.get(
        f"{stack.stripe_url}{path}",
        params=params,
        headers={"Authorization": f"Bearer {LOCAL_STRIPE_API_KEY}"},
        timeout=10.0,
        trust_env=False,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def quantity(stack: DevProcess, subscription_id: str) -> int:
    subscription = stripe_get(stack, f"/v1/subscriptions/{subscription_id}")
    seats: int = subscription["items"]["data"][0]["quantity"]
    return seats


def pay_checkout(stack: DevProcess, url: str) -> None:
    """Open the Checkout page as the browser would: the emulator pays it."""
    assert url.startswith(stack.stripe_url)
    with httpx.Client(trust_env=False, timeout=30.0) as browser:
        page = browser.get(url, follow_redirects=False)
    assert page.status_code == 303, page.text
    assert "/billing/success?session_id=cs_" in page.headers["location"]
    settle(stack)


def test_an_org_pays_per_seat_and_its_stripe_quantity_follows_its_members(
    stack: DevProcess,
) -> None:
    with new_client(stack) as anonymous:
        owner = sign_up(anonymous, "story.owner")
        verify(stack, anonymous, "story.owner@example.com")
        existing = sign_up(anonymous, "story.existing")
        verify(stack, anonymous, "story.existing@example.com")

    with logged_in(stack, owner) as boss:
        made = boss.post("/api/v1/orgs", json={"name": "Story Inc"})
        assert made.status_code == 201, made.text
        org_id = made.json()["id"]
        org = f"/api/v1/orgs/{org_id}"

        checkout = boss.post(
            f"{org}/billing/checkout",
            json={"plan": "team", "interval": "month", "currency": "usd"},
        )
        assert checkout.status_code == 200, checkout.text
        pay_checkout(stack, checkout.json()["url"])
        detail = eventually(
            lambda: boss.get(org).json(),
            lambda body: body["subscription_status"] == "active",
            "the organization's subscription after checkout",
        )
        assert detail["plan"] == "team"
        assert (detail["seats_used"], detail["seats_paid"]) == (1, 1)
        subscription_id = boss.get(f"{org}/billing/subscription").json()["id"]
        assert quantity(stack, subscription_id) == 1

        seen = outbox_files(stack)
        for address in ("story.existing@example.com", "story.newcomer@example.com"):
            invited = boss.post(
                f"{org}/invitations", json={"email": address, "role": "member"}
            )
            assert invited.status_code == 202, invited.text
        existing_token = invitation_token(stack, "story.existing@example.com", seen)
        newcomer_token = invitation_token(stack, "story.newcomer@example.com", seen)

        with logged_in(stack, existing) as colleague:
            joined = colleague.post(
                "/api/v1/invitations/accept", json={"token": existing_token}
            )
            assert joined.status_code == 200, joined.text

        with new_client(stack) as anonymous:
            before = outbox_files(stack)
            newcomer = sign_up(anonymous, "story.newcomer")
            verify(stack, anonymous, "story.newcomer@example.com", before)
        with logged_in(stack, newcomer) as fresh:
            joined = fresh.post(
                "/api/v1/invitations/accept", json={"token": newcomer_token}
            )
            assert joined.status_code == 200, joined.text
            newcomer_id = fresh.get("/api/v1/account/me").json()["id"]

        eventually(
            lambda: quantity(stack, subscription_id),
            lambda seats: seats == 3,
            "the Stripe quantity after two joins",
        )
        settle(stack)
        detail = eventually(
            lambda: boss.get(org).json(),
            lambda body: body["seats_paid"] == 3,
            "the seats paid the webhook reports after two joins",
        )
        assert detail["seats_used"] == 3

        invoices_before = stripe_get(
            stack, "/v1/invoices", subscription=subscription_id
        )["data"]
        removed = boss.delete(f"{org}/members/{newcomer_id}")
        assert removed.status_code == 204, removed.text
        eventually(
            lambda: quantity(stack, subscription_id),
            lambda seats: seats == 2,
            "the Stripe quantity after a removal",
        )
        settle(stack)
        invoices = stripe_get(stack, "/v1/invoices", subscription=subscription_id)[
            "data"
        ]
        # Newest first: the removal's proration, a credit for the seat let go.
        credit = invoices[0]
        assert len(invoices) > len(invoices_before)
        assert credit["billing_reason"] == "subscription_update"
        assert credit["total"] < 0
        assert credit["amount_due"] == 0
        detail = eventually(
            lambda: boss.get(org).json(),
            lambda body: body["seats_paid"] == 2,
            "the seats paid the webhook reports after the removal",
        )
        assert (detail["plan"], detail["subscription_status"]) == ("team", "active")
        assert detail["seats_used"] == 2

        log = boss.get(f"{org}/audit-log", params={"limit": "50"})
        assert log.status_code == 200, log.text
        steps = [(e["action"], e["target"]) for e in reversed(log.json()["items"])]
        assert [action for action, _ in steps] == [
            "org.created",
            "billing.checkout_started",
            "billing.subscription_changed",
            "invitation.created",
            "invitation.created",
            "invitation.accepted",
            "invitation.accepted",
            "member.removed",
        ]
        assert steps[1][1] == org_id
        assert steps[2][1] == subscription_id
        assert steps[3][1] == "story.existing@example.com"
        assert steps[4][1] == "story.newcomer@example.com"
        assert steps[-1][1] == newcomer_id
        started = log.json()["items"][-2]
        assert started["actor"] == boss.get("/api/v1/account/me").json()["id"]
        assert started["details"]["plan"] == "team"
        subscribed = log.json()["items"][-3]
        assert subscribed["actor"] == "stripe"
        assert subscribed["details"]["status"] == "active"
        assert subscribed["details"]["plan"] == "team"
