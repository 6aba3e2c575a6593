from __future__ import annotations

from datetime import timedelta

import pytest

from core.application.billing import BillingConfig, SubscriptionWriter
from core.application.commands.cancel_subscription import CancelSubscription
from core.application.commands.resume_subscription import ResumeSubscription
from core.application.errors import (
    NoSubscription,
    PaymentProviderRejected,
    PaymentProviderUnavailable,
)
from core.domain.user import User
from tests.fakes import FakeClock, InMemoryUserRepository
from tests.stripe_inprocess import EmulatedStripe
from tests.unit.application.conftest import PRO, Seed, Subscribe


@pytest.fixture
def cancel(
    stripe: EmulatedStripe,
    writer: SubscriptionWriter,
    clock: FakeClock,
    billing_config: BillingConfig,
) -> CancelSubscription:
    return CancelSubscription(stripe.provider, writer, clock, billing_config)


@pytest.fixture
def resume(
    stripe: EmulatedStripe,
    writer: SubscriptionWriter,
    clock: FakeClock,
    billing_config: BillingConfig,
) -> ResumeSubscription:
    return ResumeSubscription(stripe.provider, writer, clock, billing_config)


@pytest.fixture
def alice(seed: Seed, subscribe: Subscribe, clock: FakeClock) -> User:
    user, _ = subscribe(seed("alice"))
    clock.advance(timedelta(days=3))
    return user


def stored(users: InMemoryUserRepository, user: User) -> User:
    found = users.stored(user.id)
    assert found is not None
    return found


def test_a_cancellation_takes_effect_at_period_end_and_the_plan_stays_till_then(
    cancel: CancelSubscription,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    billing_config: BillingConfig,
    alice: User,
    clock: FakeClock,
) -> None:
    subscription = cancel.execute(alice).subscription

    assert subscription.cancel_at_period_end is True
    assert subscription.status.value == "active"
    assert subscription.observed_at == clock.now()
    assert stripe.subscriptions[subscription.id].cancel_at_period_end is True
    after = stored(users, alice)
    assert after.billing.subscription == subscription
    assert billing_config.entitlements(after, clock.now()).plan == PRO


def test_a_cancellation_answers_with_what_the_plan_still_in_force_allows(
    cancel: CancelSubscription,
    billing_config: BillingConfig,
    users: InMemoryUserRepository,
    alice: User,
    clock: FakeClock,
) -> None:
    view = cancel.execute(alice)

    assert view.subscription == stored(users, alice).billing.subscription
    assert view.entitlements == billing_config.entitlements(
        stored(users, alice), clock.now()
    )
    assert view.entitlements.plan == PRO


def test_the_cancel_key_names_the_subscription_and_the_users_version(
    cancel: CancelSubscription, stripe: EmulatedStripe, alice: User
) -> None:
    subscription = cancel.execute(alice).subscription
    assert stripe.idempotency_keys == [f"cancel-{subscription.id}-{alice.version}"]


def test_cancelling_twice_is_harmless(
    cancel: CancelSubscription,
    users: InMemoryUserRepository,
    alice: User,
    clock: FakeClock,
) -> None:
    first = cancel.execute(alice).subscription
    clock.advance(timedelta(seconds=1))

    again = cancel.execute(stored(users, alice)).subscription

    assert again.cancel_at_period_end is True
    assert (again.id, again.price_id) == (first.id, first.price_id)


def test_a_cancellation_retried_with_the_same_user_reaches_stripe_once(
    cancel: CancelSubscription, stripe: EmulatedStripe, alice: User
) -> None:
    subscription = alice.billing.subscription
    assert subscription is not None
    cancel.execute(alice)  # its answer is lost: the client sends it again
    stripe.update_subscription(subscription.id, cancel_at_period_end=False)

    cancel.execute(alice)

    assert stripe.idempotency_keys[0] == stripe.idempotency_keys[1]
    assert stripe.subscriptions[subscription.id].cancel_at_period_end is False


def test_a_resume_takes_back_a_cancellation_before_the_period_ends(
    cancel: CancelSubscription,
    resume: ResumeSubscription,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    alice: User,
    clock: FakeClock,
) -> None:
    cancel.execute(alice)
    clock.advance(timedelta(days=1))
    cancelled = stored(users, alice)

    subscription = resume.execute(cancelled).subscription

    assert subscription.cancel_at_period_end is False
    assert stripe.subscriptions[subscription.id].cancel_at_period_end is False
    assert stored(users, alice).billing.subscription == subscription
    assert stripe.idempotency_keys[-1] == (
        f"resume-{subscription.id}-{cancelled.version}"
    )


def test_cancel_resume_cancel_really_cancels_again(
    cancel: CancelSubscription,
    resume: ResumeSubscription,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    alice: User,
    clock: FakeClock,
) -> None:
    cancel.execute(alice)
    clock.advance(timedelta(seconds=1))
    resume.execute(stored(users, alice))
    clock.advance(timedelta(seconds=1))

    subscription = cancel.execute(stored(users, alice)).subscription

    assert stripe.subscriptions[subscription.id].cancel_at_period_end is True
    assert stored(users, alice).billing.subscription == subscription


def test_a_cancellation_keeps_what_another_request_stored_meanwhile(
    cancel: CancelSubscription, users: InMemoryUserRepository, alice: User
) -> None:
    users.save(alice.with_email_verified())

    cancel.execute(alice)

    after = stored(users, alice)
    assert after.email_verified
    assert after.billing.subscription is not None
    assert after.billing.subscription.cancel_at_period_end is True


@pytest.mark.parametrize("status", [None, "canceled", "incomplete_expired"])
def test_without_a_live_subscription_there_is_nothing_to_cancel_or_resume(
    cancel: CancelSubscription,
    resume: ResumeSubscription,
    stripe: EmulatedStripe,
    seed: Seed,
    subscribe: Subscribe,
    status: str | None,
) -> None:
    bobby = seed("bobby")
    if status is not None:
        bobby, _ = subscribe(bobby, status=status)

    with pytest.raises(NoSubscription):
        cancel.execute(bobby)
    with pytest.raises(NoSubscription):
        resume.execute(bobby)
    assert sum(stripe.calls.values()) == 0


def test_stripes_refusal_reaches_the_caller_and_nothing_is_stored(
    resume: ResumeSubscription,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    alice: User,
) -> None:
    # Ended at Stripe, and the webhook saying so has not arrived yet.
    subscription = alice.billing.subscription
    assert subscription is not None
    stripe.update_subscription(subscription.id, status="canceled")

    with pytest.raises(PaymentProviderRejected):
        resume.execute(alice)

    assert stored(users, alice) == alice


def test_stripe_down_fails_the_cancellation_and_stores_nothing(
    cancel: CancelSubscription,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    alice: User,
) -> None:
    stripe.fail()

    with pytest.raises(PaymentProviderUnavailable):
        cancel.execute(alice)

    assert stored(users, alice) == alice
