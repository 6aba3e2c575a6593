"""An organization's billing endpoints through their Lambda handlers on moto and
the local Stripe emulator: an owner subscribes the organization per seat, the
webhooks store it on the organization, and only its admins and owners see it (a
member is refused, a stranger finds no organization)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.domain.organization import Invitation, Membership, OrgRole
from core.domain.user import Email, User
from tests.functions.conftest import Api, assert_problem
from tests.stripe_local import StripeControl

pytestmark = pytest.mark.usefixtures("stripe")


def org_of(api: Api, owner: str) -> str:
    user = api.container.users.get_by_username(owner)
    return str(
        api.container.create_organization().execute(user, "Acme").organization.id
    )


def add_member(api: Api, org_id: str, username: str) -> None:
    """``username`` joins as a member, as an accepted invitation adds them (the
    free plan's one seat made two first, as a plan with more seats would)."""
    org = api.container.orgs.get(org_id)
    api.container.org_billing.save_billing(replace(org, seat_limit=2))
    user: User = api.container.users.get_by_username(username)
    now = datetime.now(UTC)
    invitation = Invitation(
        id=f"inv-{username}",
        org_id=org_id,
        email=Email(user.email.value),
        role=OrgRole.MEMBER,
        invited_by="owner",
        created_at=now,
        expires_at=now + timedelta(days=7),
    )
    trail = api.container.trail()
    api.container.invitations.put(
        invitation, trail.entry(org_id, user, _created(), user.email.key)
    )
    token = api.container.invitations.issue_token(invitation)
    found = api.container.invitations.find(token)
    api.container.orgs.join(
        found,
        Membership(org_id, user.id, OrgRole.MEMBER, now),
        trail.entry(org_id, user, _accepted(), user.id),
        now,
    )


def _created() -> Any:
    from core.domain.organization import AuditAction

    return AuditAction.INVITATION_CREATED


def _accepted() -> Any:
    from core.domain.organization import AuditAction

    return AuditAction.INVITATION_ACCEPTED


def subscription(api: Api, org_id: str, cookie: str) -> Any:
    return api.call(
        "org_billing_subscription",
        f"/api/v1/orgs/{org_id}/billing/subscription",
        cookies=[cookie],
    )


def test_an_owner_subscribes_the_org_per_seat_and_sees_it(
    api: Api, stripe: StripeControl
) -> None:
    cookie = api.as_("owner001")
    org_id = org_of(api, "owner001")

    reply = api.call(
        "org_billing_checkout",
        f"/api/v1/orgs/{org_id}/billing/checkout",
        json_body={"plan": "team"},
        cookies=[cookie],
    )
    assert reply.status == 200, reply.text
    stripe.pay(reply.json()["url"])
    stripe.flush()

    shown = subscription(api, org_id, cookie)
    assert shown.status == 200, shown.text
    body = shown.json()
    assert (body["plan"], body["status"]) == ("team", "active")
    assert (body["seats_used"], body["seat_limit"]) == (1, 20)


def test_a_member_is_refused_and_a_stranger_finds_no_org(api: Api) -> None:
    api.as_("owner002")
    org_id = org_of(api, "owner002")
    member = api.as_("member02")
    add_member(api, org_id, "member02")
    stranger = api.as_("strange2")

    assert_problem(subscription(api, org_id, member), 403, "forbidden")
    assert_problem(subscription(api, org_id, stranger), 404, "organization_not_found")
    refused = api.call(
        "org_billing_checkout",
        f"/api/v1/orgs/{org_id}/billing/checkout",
        json_body={"plan": "team"},
        cookies=[member],
    )
    assert_problem(refused, 403, "forbidden")


def test_a_member_reads_the_plan_status_and_seats_paid_once_subscribed(
    api: Api, stripe: StripeControl
) -> None:
    cookie = api.as_("owner002")
    org_id = org_of(api, "owner002")
    reply = api.call(
        "org_billing_checkout",
        f"/api/v1/orgs/{org_id}/billing/checkout",
        json_body={"plan": "team"},
        cookies=[cookie],
    )
    assert reply.status == 200, reply.text
    stripe.pay(reply.json()["url"])
    stripe.flush()

    shown = api.call("get_organization", f"/api/v1/orgs/{org_id}", cookies=[cookie])

    assert shown.status == 200, shown.text
    body = shown.json()
    assert (body["plan"], body["subscription_status"]) == ("team", "active")
    # Seats used (members) and seats paid (the quantity Stripe reported).
    assert (body["seats_used"], body["seats_paid"]) == (1, 1)
