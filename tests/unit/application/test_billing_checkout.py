from __future__ import annotations

import pytest

from core.application.billing import BillingConfig, Customers
from core.application.commands.start_checkout import PaymentMethod, StartCheckout
from core.application.errors import (
    AlreadySubscribed,
    BankTransferUnavailable,
    EmailNotVerified,
    PaymentProviderUnavailable,
    PriceUnavailable,
    SubscriptionExists,
    UnknownPlan,
)
from core.domain.billing import Interval
from core.domain.user import User
from tests.fakes import (
    FakeClock,
    InMemoryBillingStore,
    InMemoryUserRepository,
    SequentialIds,
)
from tests.stripe_inprocess import EmulatedStripe
from tests.unit.application.conftest import (
    CANCEL_URL,
    INVOICE_DAYS,
    SUCCESS_URL,
    Seed,
    Subscribe,
)

MONTH = Interval.MONTH


@pytest.fixture
def attempts() -> SequentialIds:
    return SequentialIds("attempt")


@pytest.fixture
def checkout(
    customers: Customers,
    stripe: EmulatedStripe,
    billing_config: BillingConfig,
    clock: FakeClock,
    attempts: SequentialIds,
) -> StartCheckout:
    return StartCheckout(customers, stripe.provider, billing_config, clock, attempts)


@pytest.fixture
def alice(seed: Seed, users: InMemoryUserRepository) -> User:
    """A user with a verified email (buying needs one)."""
    verified = users.save(seed("alice").with_email_verified())
    users.calls.clear()
    return verified


def test_an_unverified_account_cannot_buy_and_nothing_is_asked_of_stripe(
    checkout: StartCheckout, seed: Seed, stripe: EmulatedStripe
) -> None:
    unverified = seed("newbie")

    for method in PaymentMethod:
        with pytest.raises(EmailNotVerified):
            checkout.execute(unverified, "pro", Interval.MONTH, "usd", method)

    assert sum(stripe.calls.values()) == 0


def test_a_card_checkout_opens_a_session_for_the_plans_price_and_the_user(
    checkout: StartCheckout, stripe: EmulatedStripe, alice: User
) -> None:
    url = checkout.execute(alice, "pro", Interval.YEAR, "usd")

    [session] = stripe.checkouts
    assert url == session.url
    assert session.price_id == "price_pro_year_usd"
    # Stripe gets the user as client_reference_id and in the metadata from this.
    assert session.user_id == alice.id
    assert session.customer_id in stripe.customers
    assert (session.success_url, session.cancel_url) == (SUCCESS_URL, CANCEL_URL)
    assert session.trial_days == 0


def test_a_checkout_gives_the_trial_days_of_the_plan(
    checkout: StartCheckout, stripe: EmulatedStripe, alice: User
) -> None:
    checkout.execute(alice, "business", MONTH, "usd")

    [session] = stripe.checkouts
    assert session.price_id == "price_business_month_usd"
    assert session.trial_days == 14


def test_the_first_checkout_makes_the_users_customer_and_claims_it(
    checkout: StartCheckout,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    billing_store: InMemoryBillingStore,
    alice: User,
) -> None:
    checkout.execute(alice, "pro", MONTH, "usd")

    [customer] = stripe.customers.values()
    assert (customer["metadata"]["user_id"], customer["email"]) == (
        alice.id,
        "alice@example.com",
    )
    stored = users.stored(alice.id)
    assert stored is not None
    assert stored.billing.customer_id == customer["id"]
    assert stored.billing.subscription is None  # only Stripe's webhook sets it
    assert billing_store.owner_of(customer["id"]) == alice.id


def test_a_later_checkout_uses_the_stored_customer(
    checkout: StartCheckout,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    alice: User,
) -> None:
    checkout.execute(alice, "pro", MONTH, "usd")
    stored = users.stored(alice.id)
    assert stored is not None
    stripe.reset_counts()

    checkout.execute(stored, "business", MONTH, "usd")

    assert stripe.calls["create_customer"] == 0
    assert len(stripe.customers) == 1
    assert {s.customer_id for s in stripe.checkouts} == {stored.billing.customer_id}


def test_two_racing_checkouts_make_one_customer_and_both_use_it(
    checkout: StartCheckout,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    billing_store: InMemoryBillingStore,
    alice: User,
) -> None:
    # Both requests loaded alice before either stored a customer: the second
    # asks Stripe with the same key (and gets the same customer), then finds its
    # copy of alice stale and the customer already stored.
    checkout.execute(alice, "pro", MONTH, "usd")
    checkout.execute(alice, "pro", MONTH, "usd")

    assert stripe.calls["create_customer"] == 2
    [customer_id] = stripe.customers
    assert [s.customer_id for s in stripe.checkouts] == [customer_id, customer_id]
    stored = users.stored(alice.id)
    assert stored is not None
    assert stored.billing.customer_id == customer_id
    assert billing_store.customers() == {customer_id: alice.id}


def test_idempotency_keys_are_made_from_our_ids_and_fresh_per_attempt(
    checkout: StartCheckout, stripe: EmulatedStripe, alice: User
) -> None:
    checkout.execute(alice, "pro", MONTH, "usd")
    checkout.execute(alice, "pro", MONTH, "usd")

    assert stripe.idempotency_keys == [
        f"customer-{alice.id}",
        f"checkout-{alice.id}-attempt-1",
        f"customer-{alice.id}",
        f"checkout-{alice.id}-attempt-2",
    ]
    assert len(stripe.checkouts) == 2


def test_checking_out_the_plan_already_in_force_is_refused_and_asks_nothing(
    checkout: StartCheckout,
    stripe: EmulatedStripe,
    subscribe: Subscribe,
    alice: User,
) -> None:
    alice, _ = subscribe(alice, "price_pro_month_usd")

    with pytest.raises(AlreadySubscribed):
        checkout.execute(alice, "pro", Interval.YEAR, "usd")

    assert sum(stripe.calls.values()) == 0


@pytest.mark.parametrize("status", ["active", "trialing", "past_due", "unpaid"])
def test_a_second_live_subscription_is_refused(
    checkout: StartCheckout,
    stripe: EmulatedStripe,
    subscribe: Subscribe,
    alice: User,
    status: str,
) -> None:
    alice, _ = subscribe(alice, "price_pro_month_usd", status=status)

    with pytest.raises(SubscriptionExists):
        checkout.execute(alice, "business", MONTH, "usd")

    assert sum(stripe.calls.values()) == 0


@pytest.mark.parametrize("status", ["canceled", "incomplete", "incomplete_expired"])
def test_a_subscription_that_ended_or_never_started_does_not_stop_a_new_one(
    checkout: StartCheckout,
    stripe: EmulatedStripe,
    subscribe: Subscribe,
    alice: User,
    status: str,
) -> None:
    alice, _ = subscribe(alice, "price_pro_month_usd", status=status)

    checkout.execute(alice, "pro", MONTH, "usd")

    [session] = stripe.checkouts
    assert session.customer_id == alice.billing.customer_id
    assert stripe.calls["create_customer"] == 0


@pytest.mark.parametrize("plan_key", ["free", "nope", ""])
def test_only_a_paid_plan_of_the_catalog_can_be_checked_out(
    checkout: StartCheckout,
    stripe: EmulatedStripe,
    alice: User,
    plan_key: str,
) -> None:
    with pytest.raises(UnknownPlan):
        checkout.execute(alice, plan_key, MONTH, "usd")
    assert sum(stripe.calls.values()) == 0


@pytest.mark.parametrize(
    ("plan_key", "interval", "currency"),
    [("pro", Interval.YEAR, "eur"), ("business", MONTH, "eur"), ("pro", MONTH, "USD")],
)
def test_a_price_the_plan_does_not_have_is_refused(
    checkout: StartCheckout,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    alice: User,
    plan_key: str,
    interval: Interval,
    currency: str,
) -> None:
    with pytest.raises(PriceUnavailable):
        checkout.execute(alice, plan_key, interval, currency)
    assert sum(stripe.calls.values()) == 0
    assert users.stored(alice.id) == alice


def test_a_plan_marked_for_it_can_be_paid_by_bank_transfer(
    checkout: StartCheckout, stripe: EmulatedStripe, alice: User
) -> None:
    url = checkout.execute(
        alice, "business", Interval.YEAR, "usd", PaymentMethod.BANK_TRANSFER
    )

    [request] = stripe.invoiced
    assert url == request.invoice_url
    assert request.price_id == "price_business_year_usd"
    assert request.user_id == alice.id
    assert request.days_until_due == INVOICE_DAYS
    assert request.idempotency_key == f"checkout-{alice.id}-attempt-1"
    assert stripe.checkouts == []


def test_a_plan_not_marked_for_it_cannot_be_paid_by_bank_transfer(
    checkout: StartCheckout, stripe: EmulatedStripe, alice: User
) -> None:
    with pytest.raises(BankTransferUnavailable):
        checkout.execute(alice, "pro", MONTH, "usd", PaymentMethod.BANK_TRANSFER)
    assert sum(stripe.calls.values()) == 0


def test_stripe_down_fails_the_checkout_and_stores_nothing(
    checkout: StartCheckout,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    alice: User,
) -> None:
    stripe.fail()

    with pytest.raises(PaymentProviderUnavailable):
        checkout.execute(alice, "pro", MONTH, "usd")

    assert users.stored(alice.id) == alice
    assert stripe.customers == {}
