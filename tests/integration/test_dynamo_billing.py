"""``DynamoBillingStore`` and the user's billing state against moto: customer claims,
processed events recorded once and atomically with the state they changed, the
sparse index of live subscriptions, and billing fields that survive a round trip."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.adapters.dynamodb.billing import DynamoBillingStore
from core.adapters.dynamodb.models import (
    StripeEventItem,
    UniqueMarker,
    customer_marker_key,
    stripe_event_key,
)
from core.adapters.dynamodb.users import DynamoUserRepository
from core.application.errors import ConcurrentUpdate, DuplicateEvent
from core.domain.billing import Interval, Subscription, SubscriptionStatus
from core.domain.user import User
from tests.integration.conftest import MakeUser

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tables: None) -> DynamoBillingStore:
    return DynamoBillingStore()


def subscription(
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    *,
    sub_id: str = "sub_1",
    observed_at: datetime = NOW,
) -> Subscription:
    return Subscription(
        id=sub_id,
        status=status,
        price_id="price_pro_month_usd",
        plan_key="pro",
        interval=Interval.MONTH,
        currency="usd",
        item_id="si_1",
        current_period_end=NOW + timedelta(days=30),
        cancel_at_period_end=False,
        observed_at=observed_at,
        trial_end=None,
        past_due_since=None,
    )


def subscribed(user: User, sub: Subscription) -> User:
    return user.with_billing(user.billing.with_subscription(sub))


def test_a_subscription_round_trips_through_the_user_item_field_for_field(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    user = users.add(make_user())
    sub = replace(
        subscription(SubscriptionStatus.PAST_DUE),
        past_due_since=NOW,
        trial_end=NOW - timedelta(days=1),
    )

    users.save(subscribed(user, sub))

    found = users.get(user.id)
    assert found is not None
    assert found.billing.subscription == sub


def test_a_user_without_billing_reads_back_with_no_customer_and_no_subscription(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    user = users.add(make_user())

    found = users.get(user.id)

    assert found is not None
    assert found.billing.customer_id is None
    assert found.billing.subscription is None


def test_attaching_a_customer_stores_it_and_claims_it_for_the_user(
    users: DynamoUserRepository, store: DynamoBillingStore, make_user: MakeUser
) -> None:
    user = users.add(make_user())

    attached = store.attach_customer(user, "cus_1")

    assert attached.billing.customer_id == "cus_1"
    assert attached.version == user.version + 1
    assert store.owner_of("cus_1") == user.id
    assert UniqueMarker.get(customer_marker_key("cus_1")).user_id == user.id
    stored = users.get(user.id)
    assert stored is not None
    assert stored.billing.customer_id == "cus_1"


def test_a_customer_claimed_by_one_user_cannot_be_attached_to_another(
    users: DynamoUserRepository, store: DynamoBillingStore, make_user: MakeUser
) -> None:
    alice = users.add(make_user())
    bob = users.add(make_user())
    store.attach_customer(alice, "cus_1")

    with pytest.raises(ConcurrentUpdate):
        store.attach_customer(bob, "cus_1")

    stored = users.get(bob.id)
    assert stored is not None
    assert stored.billing.customer_id is None
    assert store.owner_of("cus_1") == alice.id


def test_two_racing_attachments_of_one_user_store_the_customer_once(
    users: DynamoUserRepository, store: DynamoBillingStore, make_user: MakeUser
) -> None:
    user = users.add(make_user())
    outcomes: list[str] = []

    def attach() -> None:
        try:
            store.attach_customer(user, "cus_race")
            outcomes.append("attached")
        except ConcurrentUpdate:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attach) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("attached") == 1
    stored = users.get(user.id)
    assert stored is not None
    assert stored.version == user.version + 1


def test_an_unknown_customer_has_no_owner(store: DynamoBillingStore) -> None:
    assert store.owner_of("cus_nobody") is None


def test_an_event_is_recorded_with_its_ttl_and_the_user_saved_with_it(
    users: DynamoUserRepository, store: DynamoBillingStore, make_user: MakeUser
) -> None:
    user = users.add(make_user())
    assert not store.was_processed("evt_1")

    saved = store.record_event(
        "evt_1",
        "customer.subscription.created",
        NOW,
        NOW + timedelta(days=30),
        subscribed(user, subscription()),
    )

    assert store.was_processed("evt_1")
    item = StripeEventItem.get(stripe_event_key("evt_1"))
    assert item.type == "customer.subscription.created"
    assert item.expires_at == NOW + timedelta(days=30)
    assert saved is not None
    assert saved.version == user.version + 1
    stored = users.get(user.id)
    assert stored is not None
    assert stored.billing.subscription == subscription()


def test_a_duplicate_event_raises_and_saves_nothing(
    users: DynamoUserRepository, store: DynamoBillingStore, make_user: MakeUser
) -> None:
    user = users.add(make_user())
    store.record_event("evt_1", "invoice.paid", NOW, NOW + timedelta(days=30))

    with pytest.raises(DuplicateEvent):
        store.record_event(
            "evt_1",
            "invoice.paid",
            NOW,
            NOW + timedelta(days=30),
            subscribed(user, subscription()),
        )

    stored = users.get(user.id)
    assert stored is not None
    assert stored.billing.subscription is None
    assert stored.version == user.version


def test_a_stale_user_fails_the_transaction_and_the_event_stays_unrecorded(
    users: DynamoUserRepository, store: DynamoBillingStore, make_user: MakeUser
) -> None:
    user = users.add(make_user())
    users.save(user.with_email_verified())  # someone else wrote meanwhile

    with pytest.raises(ConcurrentUpdate):
        store.record_event(
            "evt_2",
            "customer.subscription.updated",
            NOW,
            NOW + timedelta(days=30),
            subscribed(user, subscription()),
        )

    assert not store.was_processed("evt_2")


def test_only_users_with_a_live_subscription_are_in_the_reconciliation_index(
    users: DynamoUserRepository, store: DynamoBillingStore, make_user: MakeUser
) -> None:
    live = [users.add(make_user()) for _ in range(3)]
    ended = users.add(make_user())
    never = users.add(make_user())
    for user in live:
        users.save(subscribed(user, subscription(SubscriptionStatus.PAST_DUE)))
    users.save(subscribed(ended, subscription(SubscriptionStatus.CANCELED)))
    del never

    first = store.subscribed_users(2, None)
    assert first.next_position is not None
    second = store.subscribed_users(2, first.next_position)

    found = [u.id for u in [*first.items, *second.items]]
    assert sorted(found) == sorted(u.id for u in live)
    assert second.next_position is None


def test_a_subscription_that_ends_leaves_the_reconciliation_index(
    users: DynamoUserRepository, store: DynamoBillingStore, make_user: MakeUser
) -> None:
    user = users.add(make_user())
    saved = users.save(subscribed(user, subscription()))
    assert [u.id for u in store.subscribed_users(10, None).items] == [user.id]

    users.save(subscribed(saved, subscription(SubscriptionStatus.CANCELED)))

    assert store.subscribed_users(10, None).items == []


def test_a_user_with_a_customer_is_never_removed_and_keeps_the_claim(
    users: DynamoUserRepository, store: DynamoBillingStore, make_user: MakeUser
) -> None:
    user = store.attach_customer(users.add(make_user()), "cus_kept")

    with pytest.raises(ConcurrentUpdate):
        users.remove(user)

    assert users.get(user.id) is not None
    assert store.owner_of("cus_kept") == user.id
