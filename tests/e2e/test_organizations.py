"""Organizations on the local stack, end to end over HTTP: an owner creates an
organization and invites two people by email; the links in the outbox's emails
work, for an existing user and for one who signs up and verifies first; one is
removed, and the audit log lists every step in order.

The seat-billing half of the story (a per-seat subscription whose quantity follows
the members) is the organization billing endpoints' to test; here the
organization's seats and its subscription (Business, whose features include
reading the audit log; not per seat, so no seat sync goes to Stripe for it) are
written in its table as a paid plan's webhook would.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import boto3
import httpx
import pytest

from tests.e2e.conftest import DevProcess
from tests.e2e.test_jobs_and_email import (
    link_token,
    link_url,
    logged_in,
    outbox_files,
    read_email,
    wait_for_email,
)
from tests.e2e.test_local_stack import new_client, sign_up

pytestmark = pytest.mark.e2e

ORGS_TABLE = "strata-local-orgs"


def verify(
    stack: DevProcess,
    client: httpx.Client,
    address: str,
    seen: frozenset[Path] = frozenset(),
) -> None:
    """Follow the verification email's link, as its recipient (the first email
    to ``address`` not in ``seen``)."""
    path, _ = wait_for_email(stack.outbox, address, seen)
    token = link_token(read_email(path))
    verified = client.post("/api/v1/account/verify-email", json={"token": token})
    assert verified.status_code == 204, verified.text


def with_seats(stack: DevProcess, org_id: str, seats: int) -> None:
    """What a paid plan's checkout leaves on the organization: its seats (the free
    plan's one seat is the owner's) and an active subscription to Business."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    subscription = {
        "sub_id": f"sub_e2e_{org_id}",
        "sub_status": "active",
        "sub_price_id": "price_business_month_usd",
        "sub_plan": "business",
        "sub_interval": "month",
        "sub_currency": "usd",
        "sub_item_id": f"si_e2e_{org_id}",
        "sub_observed_at": now,
    }
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=stack.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    dynamodb.update_item(
        TableName=ORGS_TABLE,
        Key={"pk": {"S": f"ORG#{org_id}"}, "sk": {"S": "ORG"}},
        UpdateExpression="SET seat_limit = :seats, "
        + ", ".join(f"{name} = :{name}" for name in subscription),
        ExpressionAttributeValues={
            ":seats": {"N": str(seats)},
            **{f":{name}": {"S": value} for name, value in subscription.items()},
        },
    )


def invitation_token(stack: DevProcess, address: str, seen: frozenset[Path]) -> str:
    """The token of the link in the invitation email to ``address``, after
    checking that the link opens the stack's page that accepts it."""
    path, _ = wait_for_email(stack.outbox, address, seen)
    message = read_email(path)
    page = httpx.get(link_url(message), timeout=10.0, trust_env=False)
    assert page.status_code == 200, page.text
    assert "/invitations/accept" in page.text
    return link_token(message)


def test_an_organization_invites_two_people_by_email_and_logs_every_step(
    stack: DevProcess,
) -> None:
    with new_client(stack) as anonymous:
        owner = sign_up(anonymous, "org.owner")
        verify(stack, anonymous, "org.owner@example.com")
        existing = sign_up(anonymous, "org.existing")
        verify(stack, anonymous, "org.existing@example.com")

    with logged_in(stack, owner) as boss:
        made = boss.post("/api/v1/orgs", json={"name": "Acme"})
        assert made.status_code == 201, made.text
        org_id = made.json()["id"]
        assert made.json()["role"] == "owner"
        with_seats(stack, org_id, 5)
        org = f"/api/v1/orgs/{org_id}"

        seen = outbox_files(stack)
        for address in ("org.existing@example.com", "org.newcomer@example.com"):
            invited = boss.post(
                f"{org}/invitations", json={"email": address, "role": "member"}
            )
            assert invited.status_code == 202, invited.text
        existing_token = invitation_token(stack, "org.existing@example.com", seen)
        newcomer_token = invitation_token(stack, "org.newcomer@example.com", seen)
        pending = boss.get(f"{org}/invitations").json()["items"]
        assert {i["email"] for i in pending} == {
            "org.existing@example.com",
            "org.newcomer@example.com",
        }

        # An existing user follows the link while logged in.
        with logged_in(stack, existing) as colleague:
            joined = colleague.post(
                "/api/v1/invitations/accept", json={"token": existing_token}
            )
            assert joined.status_code == 200, joined.text
            assert joined.json() == {"id": org_id, "name": "Acme", "role": "member"}

        # A newcomer signs up and verifies first; the link still works, once.
        with new_client(stack) as anonymous:
            before = outbox_files(stack)
            newcomer = sign_up(anonymous, "org.newcomer")
            verify(stack, anonymous, "org.newcomer@example.com", before)
        with logged_in(stack, newcomer) as fresh:
            joined = fresh.post(
                "/api/v1/invitations/accept", json={"token": newcomer_token}
            )
            assert joined.status_code == 200, joined.text
            again = fresh.post(
                "/api/v1/invitations/accept", json={"token": newcomer_token}
            )
            assert again.status_code == 410
            assert again.json()["code"] == "invitation_used"
            newcomer_id = fresh.get("/api/v1/account/me").json()["id"]

        members = boss.get(f"{org}/members").json()["items"]
        assert len(members) == 3
        assert boss.get(org).json()["seats_used"] == 3

        removed = boss.delete(f"{org}/members/{newcomer_id}")
        assert removed.status_code == 204, removed.text
        assert boss.get(org).json()["seats_used"] == 2
        with logged_in(stack, newcomer) as gone:
            assert gone.get(org).status_code == 404

        log = boss.get(f"{org}/audit-log", params={"limit": "50"})
        assert log.status_code == 200, log.text
        steps = [(e["action"], e["target"]) for e in reversed(log.json()["items"])]
        assert [action for action, _ in steps] == [
            "org.created",
            "invitation.created",
            "invitation.created",
            "invitation.accepted",
            "invitation.accepted",
            "member.removed",
        ]
        assert steps[1][1] == "org.existing@example.com"
        assert steps[2][1] == "org.newcomer@example.com"
        assert steps[-1][1] == newcomer_id
