from __future__ import annotations

from datetime import timedelta

import pytest

from core.application.billing import SubscriptionWriter
from core.application.errors import PaymentProviderUnavailable
from core.application.jobs.reconcile_subscriptions import ReconcileSubscriptionsJob
from core.application.ports import Position, UserPage
from core.domain.billing import SubscriptionStatus
from core.domain.user import User
from tests.fakes import (
    FakeClock,
    InMemoryBillingStore,
    InMemoryUserRepository,
)
from tests.stripe_inprocess import EmulatedStripe
from tests.unit.application.conftest import Seed, Subscribe


@pytest.fixture
def job(
    billing_store: InMemoryBillingStore,
    users: InMemoryUserRepository,
    stripe: EmulatedStripe,
    writer: SubscriptionWriter,
    clock: FakeClock,
) -> ReconcileSubscriptionsJob:
    return ReconcileSubscriptionsJob(
        billing_store, users, stripe.provider, writer, clock, page_size=2
    )


class StaleIndex(InMemoryBillingStore):
    """An index that answers the page it was given: read before a later write."""

    def __init__(self, users: InMemoryUserRepository, page: UserPage) -> None:
        super().__init__(users)
        self._page = page

    def subscribed_users(self, limit: int, start: Position | None) -> UserPage:
        return self._page


def stored(users: InMemoryUserRepository, user: User) -> User:
    found = users.stored(user.id)
    assert found is not None
    return found


def test_a_change_whose_webhook_was_lost_is_repaired(
    job: ReconcileSubscriptionsJob,
    seed: Seed,
    subscribe: Subscribe,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    alice, snapshot = subscribe(seed("alice"))
    renewed_until = clock.now() + timedelta(days=60)
    stripe.update_subscription(
        snapshot.id, current_period_end=renewed_until, cancel_at_period_end=True
    )
    clock.advance(timedelta(days=1))

    result = job.run({})

    assert result == {
        "checked": 1,
        "repaired": 1,
        "unknown": 0,
        "found": 0,
        "duplicates": 0,
    }
    subscription = stored(users, alice).billing.subscription
    assert subscription is not None
    assert subscription.current_period_end == renewed_until
    assert subscription.cancel_at_period_end is True
    assert subscription.observed_at == clock.now()


def test_a_subscription_that_ended_unseen_is_ended_and_then_left_alone(
    job: ReconcileSubscriptionsJob,
    seed: Seed,
    subscribe: Subscribe,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    alice, snapshot = subscribe(seed("alice"))
    stripe.update_subscription(snapshot.id, status="canceled")
    clock.advance(timedelta(days=1))

    first = job.run({})
    stripe.reset_counts()
    clock.advance(timedelta(days=1))
    second = job.run({})

    subscription = stored(users, alice).billing.subscription
    assert subscription is not None
    assert subscription.status is SubscriptionStatus.CANCELED
    assert first == {
        "checked": 1,
        "repaired": 1,
        "unknown": 0,
        "found": 0,
        "duplicates": 0,
    }
    assert second == {
        "checked": 0,
        "repaired": 0,
        "unknown": 0,
        "found": 0,
        "duplicates": 0,
    }
    assert stripe.calls["get_subscription"] == 0


def test_subscriptions_that_agree_with_stripe_are_checked_not_repaired(
    job: ReconcileSubscriptionsJob,
    seed: Seed,
    subscribe: Subscribe,
    stripe: EmulatedStripe,
) -> None:
    subscribe(seed("alice"))
    subscribe(seed("bobby"), "price_business_month_usd", status="trialing")

    assert job.run({}) == {
        "checked": 2,
        "repaired": 0,
        "unknown": 0,
        "found": 0,
        "duplicates": 0,
    }
    assert stripe.calls["get_subscription"] == 2


def test_only_live_subscriptions_are_read_from_stripe(
    job: ReconcileSubscriptionsJob,
    seed: Seed,
    subscribe: Subscribe,
    stripe: EmulatedStripe,
) -> None:
    seed("nobody")
    subscribe(seed("ended"), status="canceled")
    subscribe(seed("expired"), status="incomplete_expired")
    _, live = subscribe(seed("alice"), status="past_due")

    result = job.run({})

    assert result["checked"] == 1
    assert stripe.calls["get_subscription"] == 1
    assert stripe.subscriptions[live.id].status == "past_due"


def test_every_page_of_subscribed_users_is_read(
    job: ReconcileSubscriptionsJob,
    seed: Seed,
    subscribe: Subscribe,
    stripe: EmulatedStripe,
    billing_store: InMemoryBillingStore,
    clock: FakeClock,
) -> None:
    for n in range(5):
        clock.advance(timedelta(minutes=1))
        subscribe(seed(f"user{n:04d}"))

    result = job.run({})

    assert result["checked"] == 5
    assert stripe.calls["get_subscription"] == 5
    assert billing_store.calls["subscribed_users"] == 3


def test_a_subscription_stripe_does_not_know_is_counted_and_left_alone(
    job: ReconcileSubscriptionsJob,
    seed: Seed,
    subscribe: Subscribe,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
) -> None:
    alice, snapshot = subscribe(seed("alice"))
    subscribe(seed("bobby"))
    stripe.forget_subscription(snapshot.id)

    assert job.run({}) == {
        "checked": 2,
        "repaired": 0,
        "unknown": 1,
        "found": 0,
        "duplicates": 0,
    }
    assert stored(users, alice) == alice


def test_stripe_down_fails_the_run_so_the_task_is_retried(
    job: ReconcileSubscriptionsJob,
    seed: Seed,
    subscribe: Subscribe,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
) -> None:
    alice, _ = subscribe(seed("alice"))
    stripe.fail()

    with pytest.raises(PaymentProviderUnavailable):
        job.run({})
    assert stored(users, alice) == alice


def test_running_twice_repairs_once(
    job: ReconcileSubscriptionsJob,
    seed: Seed,
    subscribe: Subscribe,
    stripe: EmulatedStripe,
    clock: FakeClock,
) -> None:
    _, snapshot = subscribe(seed("alice"))
    stripe.update_subscription(snapshot.id, price_id="price_business_month_usd")
    clock.advance(timedelta(hours=1))

    first = job.run({})
    clock.advance(timedelta(minutes=1))
    second = job.run({})

    assert (first["repaired"], second["repaired"]) == (1, 0)


def test_a_user_changed_meanwhile_is_read_again_and_keeps_the_change(
    job: ReconcileSubscriptionsJob,
    seed: Seed,
    subscribe: Subscribe,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    billing_store: InMemoryBillingStore,
    clock: FakeClock,
) -> None:
    alice, snapshot = subscribe(seed("alice"))
    stripe.update_subscription(snapshot.id, status="past_due")
    clock.advance(timedelta(hours=1))
    page = billing_store.subscribed_users(10, None)
    users.save(alice.with_email_verified())  # after the index was read

    stale = ReconcileSubscriptionsJob(
        StaleIndex(users, page),
        users,
        stripe.provider,
        SubscriptionWriter(users, job.writer.catalog),
        clock,
    )

    assert stale.run({})["repaired"] == 1

    after = stored(users, alice)
    assert after.email_verified
    assert after.billing.subscription is not None
    assert after.billing.subscription.status is SubscriptionStatus.PAST_DUE
    assert after.billing.subscription.past_due_since == clock.now()


# -- pass 2: what Stripe has that we never heard of ------------------------------------


def _customer(
    user: User, stripe: EmulatedStripe, billing_store: InMemoryBillingStore
) -> User:
    customer_id = stripe.provider.create_customer(
        user.id, user.email.value, idempotency_key=f"customer-{user.id}"
    )
    return billing_store.attach_customer(user, customer_id)


def test_a_purchase_whose_every_webhook_was_lost_is_found_and_stored(
    job: ReconcileSubscriptionsJob,
    seed: Seed,
    stripe: EmulatedStripe,
    billing_store: InMemoryBillingStore,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    bob = _customer(seed("bobby"), stripe, billing_store)
    assert bob.billing.customer_id is not None
    # Paid at Stripe; not one webhook arrived.
    bought = stripe.add_subscription(
        bob.billing.customer_id, "price_pro_month_usd", user_id=bob.id
    )
    clock.advance(timedelta(hours=1))

    result = job.run({})

    assert result["found"] == 1
    subscription = stored(users, bob).billing.subscription
    assert subscription is not None
    assert (subscription.id, subscription.status) == (
        bought.id,
        SubscriptionStatus.ACTIVE,
    )
    # Found once: the next run reads it in pass 1 and writes nothing.
    again = job.run({})
    assert (again["found"], again["checked"], again["repaired"]) == (0, 1, 0)


def test_a_found_subscription_without_our_metadata_is_matched_by_its_customer(
    job: ReconcileSubscriptionsJob,
    seed: Seed,
    stripe: EmulatedStripe,
    billing_store: InMemoryBillingStore,
    users: InMemoryUserRepository,
) -> None:
    carol = _customer(seed("carol"), stripe, billing_store)
    assert carol.billing.customer_id is not None
    bought = stripe.add_subscription(carol.billing.customer_id, "price_pro_month_usd")

    assert job.run({})["found"] == 1

    subscription = stored(users, carol).billing.subscription
    assert subscription is not None
    assert subscription.id == bought.id


def test_a_second_live_subscription_at_stripe_is_counted_not_stored(
    job: ReconcileSubscriptionsJob,
    seed: Seed,
    subscribe: Subscribe,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
) -> None:
    alice, first = subscribe(seed("alice"))
    stripe.add_subscription(
        first.customer_id, "price_business_month_usd", user_id=alice.id
    )

    result = job.run({})

    assert (result["found"], result["duplicates"]) == (0, 1)
    kept = stored(users, alice).billing.subscription
    assert kept is not None
    assert kept.id == first.id


def test_subscriptions_of_customers_we_do_not_know_are_left_alone(
    job: ReconcileSubscriptionsJob,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
) -> None:
    stranger = stripe.provider.create_customer(
        "someone-else", "x@example.com", idempotency_key="customer-x"
    )
    stripe.add_subscription(stranger, "price_pro_month_usd")

    assert job.run({})["found"] == 0
    assert users.all() == []
