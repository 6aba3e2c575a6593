"""The organizations' billing store against moto: the customer and its claim, the
subscription with the plan and seat limit it gives (the limit the joins then
check), the seat hold of a plan change (joins check it too; only the change's
store and its release end it), the event recorded with it once, the version
conditions, and the sparse index of organizations whose subscription has not
ended."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from core.adapters.dynamodb.org_billing import (
    DynamoOrganizationSeats,
    DynamoOrgBillingStore,
)
from core.adapters.dynamodb.org_models import ORG_SK, OrgItem, org_pk
from core.adapters.dynamodb.orgs import (
    DynamoAuditLog,
    DynamoInvitationStore,
    DynamoOrganizationStore,
)
from core.application.errors import ConcurrentUpdate, DuplicateEvent, InvalidCursor
from core.domain.billing import Billing, Interval, Subscription, SubscriptionStatus
from core.domain.organization import (
    AuditAction,
    AuditEntry,
    Invitation,
    Membership,
    Organization,
    OrganizationNotFound,
    OrgName,
    OrgRole,
)
from core.domain.seats import SeatsExhausted
from core.domain.user import Email
from tests.integration.conftest import EPOCH

NOW = EPOCH + timedelta(days=10)
_serial = itertools.count(1)


@pytest.fixture
def orgs(tables: None) -> DynamoOrganizationStore:
    return DynamoOrganizationStore()


@pytest.fixture
def store(tables: None) -> DynamoOrgBillingStore:
    return DynamoOrgBillingStore()


def entry(log: str, action: AuditAction = AuditAction.ORG_CREATED) -> AuditEntry:
    n = next(_serial)
    return AuditEntry(
        id=f"audit{n:06d}",
        log=log,
        actor="owner",
        action=action,
        target="target",
        at=NOW + timedelta(seconds=n),
        expires_at=NOW + timedelta(days=365),
    )


def make_org(orgs: DynamoOrganizationStore, seat_limit: int | None = 1) -> Organization:
    org_id = f"org{next(_serial):06d}"
    org = Organization(
        id=org_id,
        name=OrgName("Acme"),
        created_at=NOW,
        created_by="owner",
        plan_key="free",
        seat_limit=seat_limit,
    )
    return orgs.create(
        org, Membership(org_id, "owner", OrgRole.OWNER, NOW), entry(org_id)
    )


def subscription(
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE, sub_id: str = "sub_1"
) -> Subscription:
    return Subscription(
        id=sub_id,
        status=status,
        price_id="price_team_month_usd",
        plan_key="team",
        interval=Interval.MONTH,
        currency="usd",
        item_id="si_1",
        current_period_end=NOW + timedelta(days=30),
        cancel_at_period_end=False,
        observed_at=NOW,
    )


def on_team(org: Organization, status: SubscriptionStatus) -> Organization:
    """``org`` with a Team subscription in ``status``, and Team's 2 seats."""
    return replace(
        org,
        billing=org.billing.with_subscription(subscription(status)),
        plan_key="team",
        seat_limit=2,
    )


def test_a_customer_is_stored_on_the_org_and_claimed_for_it_once(
    orgs: DynamoOrganizationStore, store: DynamoOrgBillingStore
) -> None:
    org = make_org(orgs)
    other = make_org(orgs)

    stored = store.attach_customer(org, "cus_1")

    assert orgs.get(org.id) == stored
    assert stored.billing.customer_id == "cus_1"
    assert store.org_of_customer("cus_1") == org.id
    assert store.org_of_customer("cus_unknown") is None
    with pytest.raises(ConcurrentUpdate):  # another org's customer
        store.attach_customer(other, "cus_1")
    with pytest.raises(ConcurrentUpdate):  # a stale version
        store.attach_customer(org, "cus_2")
    assert orgs.get(other.id) == other


def test_the_subscription_sets_the_seat_limit_the_joins_check(
    orgs: DynamoOrganizationStore, store: DynamoOrgBillingStore
) -> None:
    org = store.attach_customer(make_org(orgs, seat_limit=1), "cus_1")
    invitations = DynamoInvitationStore()

    saved = store.save_billing(on_team(org, SubscriptionStatus.ACTIVE))

    assert orgs.get(org.id) == saved
    assert (saved.plan_key, saved.seat_limit) == ("team", 2)
    for email, expect_ok in (("a@x.example", True), ("b@x.example", False)):
        invitation = Invitation(
            id=f"inv-{email}",
            org_id=org.id,
            email=Email(email),
            role=OrgRole.MEMBER,
            invited_by="owner",
            created_at=NOW,
            expires_at=NOW + timedelta(days=7),
        )
        invitations.put(invitation, entry(org.id, AuditAction.INVITATION_CREATED))
        token = invitations.issue_token(invitation)
        assert token is not None
        found = invitations.find(token)
        assert found is not None
        join = Membership(org.id, f"user-{email}", OrgRole.MEMBER, NOW)
        if expect_ok:
            orgs.join(found, join, entry(org.id), NOW)
        else:
            with pytest.raises(SeatsExhausted):
                orgs.join(found, join, entry(org.id), NOW)
    after = orgs.get(org.id)
    assert after is not None
    assert after.seats_used == 2


def test_a_write_from_a_stale_version_or_a_deleted_org_is_refused(
    orgs: DynamoOrganizationStore, store: DynamoOrgBillingStore
) -> None:
    org = make_org(orgs)
    store.save_billing(on_team(org, SubscriptionStatus.ACTIVE))

    with pytest.raises(ConcurrentUpdate):
        store.save_billing(on_team(org, SubscriptionStatus.CANCELED))
    current = orgs.get(org.id)
    assert current is not None
    orgs.delete(current, entry(org.id, AuditAction.ORG_DELETED))
    with pytest.raises(OrganizationNotFound):
        store.save_billing(current)


def test_an_event_is_recorded_with_the_orgs_billing_once(
    orgs: DynamoOrganizationStore, store: DynamoOrgBillingStore
) -> None:
    org = make_org(orgs)
    changed = on_team(org, SubscriptionStatus.ACTIVE)

    store.record_event("evt_1", "customer.subscription.created", NOW, NOW, changed)
    with pytest.raises(DuplicateEvent):
        store.record_event(
            "evt_1",
            "customer.subscription.created",
            NOW,
            NOW,
            on_team(org, SubscriptionStatus.CANCELED),
        )

    stored = orgs.get(org.id)
    assert stored is not None
    assert stored.billing.subscription == subscription(SubscriptionStatus.ACTIVE)
    assert stored.version == org.version + 1
    with pytest.raises(ConcurrentUpdate):  # org moved on: nothing recorded
        store.record_event("evt_2", "invoice.paid", NOW, NOW, changed)
    store.record_event("evt_2", "invoice.paid", NOW, NOW, None)


def test_an_event_records_its_audit_entry_and_the_seats_paid_in_one_transaction(
    orgs: DynamoOrganizationStore, store: DynamoOrgBillingStore
) -> None:
    org = make_org(orgs)
    audit = DynamoAuditLog()
    changed = on_team(org, SubscriptionStatus.ACTIVE)
    paid = changed.billing.with_subscription(
        replace(subscription(SubscriptionStatus.ACTIVE), quantity=3)
    )
    billed = entry(org.id, AuditAction.BILLING_SUBSCRIPTION_CHANGED)

    store.record_event(
        "evt_a", "invoice.paid", NOW, NOW, replace(changed, billing=paid), billed
    )
    with pytest.raises(DuplicateEvent):  # a replay logs nothing twice
        store.record_event(
            "evt_a", "invoice.paid", NOW, NOW, None, entry(org.id, billed.action)
        )

    stored = orgs.get(org.id)
    assert stored is not None
    assert stored.billing.subscription is not None
    assert stored.billing.subscription.quantity == 3
    logged = audit.list(org.id, NOW, 10, None).items
    assert logged[0] == billed
    assert [e.action for e in logged] == [billed.action, AuditAction.ORG_CREATED]
    # A stale version records neither the event nor its entry.
    with pytest.raises(ConcurrentUpdate):
        store.record_event(
            "evt_b", "invoice.paid", NOW, NOW, changed, entry(org.id, billed.action)
        )
    assert len(audit.list(org.id, NOW, 10, None).items) == 2


def test_an_admins_billing_change_and_its_audit_entry_are_one_transaction(
    orgs: DynamoOrganizationStore, store: DynamoOrgBillingStore
) -> None:
    org = make_org(orgs)
    audit = DynamoAuditLog()
    canceled = entry(org.id, AuditAction.BILLING_CANCELED)

    saved = store.save_billing(on_team(org, SubscriptionStatus.ACTIVE), canceled)

    assert orgs.get(org.id) == saved
    logged = audit.list(org.id, NOW, 10, None).items
    assert [e.action for e in logged] == [canceled.action, AuditAction.ORG_CREATED]
    assert logged[0] == canceled
    # A stale version writes neither the billing nor the entry.
    late = entry(org.id, AuditAction.BILLING_PLAN_CHANGED)
    with pytest.raises(ConcurrentUpdate):
        store.save_billing(on_team(org, SubscriptionStatus.CANCELED), late)
    assert orgs.get(org.id) == saved
    assert len(audit.list(org.id, NOW, 10, None).items) == 2
    # An entry's id twice (a replayed write) writes neither either.
    with pytest.raises(ConcurrentUpdate):
        store.save_billing(on_team(saved, SubscriptionStatus.CANCELED), canceled)
    assert orgs.get(org.id) == saved


def test_the_seated_index_holds_orgs_whose_subscription_has_not_ended(
    orgs: DynamoOrganizationStore, store: DynamoOrgBillingStore
) -> None:
    live = [
        store.save_billing(on_team(make_org(orgs), SubscriptionStatus.ACTIVE))
        for _ in range(3)
    ]
    ended = store.save_billing(on_team(make_org(orgs), SubscriptionStatus.ACTIVE))
    store.save_billing(on_team(ended, SubscriptionStatus.CANCELED))
    make_org(orgs)  # never subscribed
    seats = DynamoOrganizationSeats()

    found: list[str] = []
    start = None
    pages = 0
    while True:
        page = seats.seated_subscriptions(2, start)
        found += [row.org_id for row in page.items]
        assert all(
            (row.subscription_id, row.member_count) == ("sub_1", 1)
            for row in page.items
        )
        pages += 1
        start = page.next_position
        if start is None:
            break

    assert sorted(found) == sorted(org.id for org in live)
    assert pages >= 2
    with pytest.raises(InvalidCursor):
        seats.seated_subscriptions(2, {"seated": "OTHER", "pk": "x", "sk": "y"})


def test_billing_with_no_subscription_clears_the_stored_one(
    orgs: DynamoOrganizationStore, store: DynamoOrgBillingStore
) -> None:
    org = store.save_billing(on_team(make_org(orgs), SubscriptionStatus.ACTIVE))

    cleared = store.save_billing(
        replace(
            org, billing=Billing(customer_id="cus_9"), plan_key="free", seat_limit=1
        )
    )

    assert orgs.get(org.id) == cleared
    assert DynamoOrganizationSeats().seated_subscriptions(10, None).items == []


def add_member(
    orgs: DynamoOrganizationStore, org_id: str, user_id: str, now: datetime = NOW
) -> None:
    """``user_id`` accepts an invitation to ``org_id`` at ``now``
    (``SeatsExhausted`` beyond the stored seat limit or a seat hold)."""
    invitations = DynamoInvitationStore()
    invitation = Invitation(
        id=f"inv-{user_id}",
        org_id=org_id,
        email=Email(f"{user_id}@x.example"),
        role=OrgRole.MEMBER,
        invited_by="owner",
        created_at=NOW,
        expires_at=NOW + timedelta(days=7),
    )
    invitations.put(invitation, entry(org_id, AuditAction.INVITATION_CREATED))
    token = invitations.issue_token(invitation)
    assert token is not None
    found = invitations.find(token)
    assert found is not None
    member = Membership(org_id, user_id, OrgRole.MEMBER, NOW)
    orgs.join(found, member, entry(org_id), now)


def hold_of(org_id: str) -> tuple[str, int, datetime] | None:
    """The organization item's seat hold as stored (plan, seats, until)."""
    item = OrgItem.get(org_pk(org_id), ORG_SK, consistent_read=True)
    if item.seat_hold is None:
        assert (item.seat_hold_plan, item.seat_hold_until) == (None, None)
        return None
    assert item.seat_hold_plan is not None
    assert item.seat_hold_until is not None
    return item.seat_hold_plan, int(item.seat_hold), item.seat_hold_until


UNTIL = NOW + timedelta(minutes=10)


def test_seats_are_held_only_when_the_members_fit_and_the_version_stays(
    orgs: DynamoOrganizationStore, store: DynamoOrgBillingStore
) -> None:
    org = make_org(orgs, seat_limit=5)
    add_member(orgs, org.id, "bobby")
    before = orgs.get(org.id)
    assert before is not None
    assert before.seats_used == 2

    with pytest.raises(SeatsExhausted) as refused:
        store.hold_seats(org.id, "solo", 1, UNTIL)
    assert (refused.value.plan_key, refused.value.limit) == ("solo", 1)
    assert refused.value.wanted == 2
    assert hold_of(org.id) is None
    store.hold_seats(org.id, "duo", 2, UNTIL)  # exactly the members: fits

    assert hold_of(org.id) == ("duo", 2, UNTIL)
    assert orgs.get(org.id) == before  # the limit shown and the version unmoved
    # The version the change read still stores Stripe's answer.
    saved = store.save_billing(on_team(before, SubscriptionStatus.ACTIVE))
    assert orgs.get(org.id) == saved
    orgs.delete(saved, entry(org.id, AuditAction.ORG_DELETED))
    with pytest.raises(OrganizationNotFound):
        store.hold_seats(org.id, "duo", 2, UNTIL)


def test_a_join_is_refused_under_a_live_hold_and_accepted_once_it_lapsed(
    orgs: DynamoOrganizationStore, store: DynamoOrgBillingStore
) -> None:
    org = make_org(orgs, seat_limit=5)
    add_member(orgs, org.id, "bobby")
    store.hold_seats(org.id, "duo", 2, UNTIL)

    with pytest.raises(SeatsExhausted) as refused:
        add_member(orgs, org.id, "carol", UNTIL)  # its last instant still holds
    assert (refused.value.plan_key, refused.value.limit) == ("duo", 2)
    assert refused.value.wanted == 3
    add_member(orgs, org.id, "carol", UNTIL + timedelta(seconds=1))

    joined = orgs.get(org.id)
    assert joined is not None
    assert joined.seats_used == 3
    # A hold with seats left binds nothing yet.
    roomy = make_org(orgs, seat_limit=5)
    store.hold_seats(roomy.id, "duo", 2, UNTIL)
    add_member(orgs, roomy.id, "dave")
    with pytest.raises(SeatsExhausted):
        add_member(orgs, roomy.id, "erin")


def test_a_webhooks_write_leaves_the_hold_and_the_changes_store_ends_it(
    orgs: DynamoOrganizationStore, store: DynamoOrgBillingStore
) -> None:
    org = make_org(orgs, seat_limit=5)
    store.hold_seats(org.id, "duo", 2, UNTIL)

    # Webhooks store the plan still stored, Pro's 5 seats: the hold stays.
    webhook = store.save_billing(replace(org, plan_key="pro", seat_limit=5))
    store.record_event("evt_paid", "invoice.paid", NOW, UNTIL, webhook)
    assert hold_of(org.id) == ("duo", 2, UNTIL)
    add_member(orgs, org.id, "bobby")
    with pytest.raises(SeatsExhausted):
        add_member(orgs, org.id, "carol")

    current = orgs.get(org.id)
    assert current is not None
    changed = store.save_billing(
        on_team(current, SubscriptionStatus.ACTIVE), release_hold=True
    )

    assert hold_of(org.id) is None
    assert orgs.get(org.id) == changed


def test_a_hold_is_released_only_while_it_is_still_the_one_taken(
    orgs: DynamoOrganizationStore, store: DynamoOrgBillingStore
) -> None:
    org = make_org(orgs, seat_limit=5)
    store.hold_seats(org.id, "trio", 3, UNTIL)

    store.release_seat_hold(org.id, 2)  # another change's: not this one
    assert hold_of(org.id) == ("trio", 3, UNTIL)
    store.release_seat_hold(org.id, 3)
    assert hold_of(org.id) is None
    assert orgs.get(org.id) == org  # the version unmoved

    orgs.delete(org, entry(org.id, AuditAction.ORG_DELETED))
    store.release_seat_hold(org.id, 3)  # gone: nothing to release, nothing made
    assert orgs.get(org.id) is None
    with pytest.raises(OrgItem.DoesNotExist):
        OrgItem.get(org_pk(org.id), ORG_SK, consistent_read=True)
