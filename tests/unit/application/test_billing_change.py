from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from core.application.billing import BillingConfig, SubscriptionWriter
from core.application.commands.change_plan import ChangePlan
from core.application.errors import (
    AlreadySubscribed,
    InvalidProrationToken,
    NoSubscription,
    PaymentFailed,
    PaymentProviderUnavailable,
    PriceUnavailable,
    UnknownPlan,
)
from core.application.queries.preview_plan_change import PreviewPlanChange
from core.domain.billing import Interval, SubscriptionStatus
from core.domain.user import User
from tests.fakes import (
    FakeClock,
    FakeCursorCodec,
    InMemoryUserRepository,
)
from tests.stripe_inprocess import EmulatedStripe
from tests.unit.application.conftest import BUSINESS, Seed, Subscribe

MONTH = Interval.MONTH


@pytest.fixture
def change(
    stripe: EmulatedStripe,
    writer: SubscriptionWriter,
    billing_config: BillingConfig,
    clock: FakeClock,
    cursors: FakeCursorCodec,
) -> ChangePlan:
    return ChangePlan(stripe.provider, writer, billing_config, clock, cursors)


@pytest.fixture
def preview(
    stripe: EmulatedStripe,
    billing_config: BillingConfig,
    cursors: FakeCursorCodec,
    clock: FakeClock,
) -> PreviewPlanChange:
    return PreviewPlanChange(stripe.provider, billing_config, cursors, clock)


@pytest.fixture
def alice(seed: Seed, subscribe: Subscribe, clock: FakeClock) -> User:
    """Subscribed to pro, monthly in USD, from April 1 (a 30-day period), a
    third into the period."""
    clock.set(datetime(2025, 4, 1, 12, tzinfo=UTC))
    user, _ = subscribe(seed("alice"), "price_pro_month_usd")
    clock.advance(timedelta(days=10))
    return user


Either = Callable[[User, str, Interval], object]


@pytest.fixture(params=["preview", "change"])
def either(
    request: pytest.FixtureRequest, preview: PreviewPlanChange, change: ChangePlan
) -> Either:
    """The preview and the change: both refuse the same requests."""
    if request.param == "preview":
        return preview.execute
    return change.execute


def invoiced(stripe: EmulatedStripe, user: User) -> list[int]:
    """The amounts invoiced to the user since the first invoice (subscribing's)."""
    assert user.billing.customer_id is not None
    return [i.amount_due for i in stripe.invoices_of(user.billing.customer_id)][1:]


# -- preview -------------------------------------------------------------------------


def test_a_preview_shows_the_prorated_amount_and_changes_nothing(
    preview: PreviewPlanChange,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    alice: User,
    clock: FakeClock,
) -> None:
    shown = preview.execute(alice, "business", MONTH)

    # 20 days of 30 left: 2/3 of 4500 charged, 2/3 of 1500 credited.
    assert shown.amount_due == 2000
    assert shown.currency == "usd"
    assert shown.proration_token
    assert users.writes == 0
    assert invoiced(stripe, alice) == []
    assert stripe.calls["change_price"] == 0


def test_a_change_with_the_previews_date_charges_exactly_the_preview(
    preview: PreviewPlanChange,
    change: ChangePlan,
    stripe: EmulatedStripe,
    alice: User,
    clock: FakeClock,
) -> None:
    shown = preview.execute(alice, "business", MONTH)
    clock.advance(timedelta(minutes=3))  # the user thinks it over

    change.execute(alice, "business", MONTH, proration_token=shown.proration_token)

    assert invoiced(stripe, alice) == [shown.amount_due]


def test_a_change_without_a_date_is_prorated_at_the_time_of_the_change(
    preview: PreviewPlanChange,
    change: ChangePlan,
    stripe: EmulatedStripe,
    alice: User,
    clock: FakeClock,
) -> None:
    shown = preview.execute(alice, "business", MONTH)
    clock.advance(timedelta(days=5))

    change.execute(alice, "business", MONTH)

    # 15 of 30 days left: half of 4500 charged, half of 1500 credited.
    assert invoiced(stripe, alice) == [1500]
    assert shown.amount_due == 2000


def test_a_preview_of_another_interval_charges_the_whole_new_period_less_unused_time(
    preview: PreviewPlanChange, alice: User
) -> None:
    shown = preview.execute(alice, "pro", Interval.YEAR)
    assert shown.amount_due == 15000 - 1000


def test_a_preview_for_a_trialing_subscription_costs_nothing_now(
    preview: PreviewPlanChange, seed: Seed, subscribe: Subscribe
) -> None:
    bobby, _ = subscribe(seed("bobby"), "price_pro_month_usd", status="trialing")
    assert preview.execute(bobby, "business", MONTH).amount_due == 0


# -- change --------------------------------------------------------------------------


def test_a_change_moves_the_subscription_and_stores_what_stripe_answered(
    change: ChangePlan,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    billing_config: BillingConfig,
    alice: User,
    clock: FakeClock,
) -> None:
    before = alice.billing.subscription
    assert before is not None

    changed = change.execute(alice, "business", MONTH).subscription

    stored = users.stored(alice.id)
    assert stored is not None
    assert stored.billing.subscription == changed
    assert (changed.id, changed.item_id) == (before.id, before.item_id)
    assert changed.price_id == "price_business_month_usd"
    assert changed.plan_key == "business"
    assert changed.observed_at == clock.now()
    assert stripe.subscriptions[before.id].price_id == "price_business_month_usd"
    assert billing_config.entitlements(stored, clock.now()).plan == BUSINESS


def test_a_change_to_another_interval_restarts_the_period(
    change: ChangePlan, stripe: EmulatedStripe, alice: User, clock: FakeClock
) -> None:
    changed = change.execute(alice, "pro", Interval.YEAR).subscription

    assert changed.interval is Interval.YEAR
    assert changed.current_period_end == clock.now() + timedelta(days=365)


def test_the_change_key_names_the_subscription_price_date_and_stored_version(
    preview: PreviewPlanChange,
    change: ChangePlan,
    stripe: EmulatedStripe,
    alice: User,
    clock: FakeClock,
) -> None:
    subscription = alice.billing.subscription
    assert subscription is not None
    token = preview.execute(alice, "business", MONTH).proration_token
    moment = int(clock.now().timestamp())

    change.execute(alice, "business", MONTH, proration_token=token)

    assert stripe.idempotency_keys == [
        f"change-{subscription.id}-price_business_month_usd-{moment}-{alice.version}"
    ]


def test_without_a_date_the_change_key_still_names_the_users_version(
    change: ChangePlan, stripe: EmulatedStripe, alice: User
) -> None:
    subscription = alice.billing.subscription
    assert subscription is not None

    change.execute(alice, "business", MONTH)

    assert stripe.idempotency_keys == [
        f"change-{subscription.id}-price_business_month_usd-0-{alice.version}"
    ]


def test_a_retried_change_is_charged_once(
    preview: PreviewPlanChange,
    change: ChangePlan,
    stripe: EmulatedStripe,
    alice: User,
) -> None:
    # The first answer was lost on the way back: the request is sent again
    # with the same user as loaded before.
    token = preview.execute(alice, "business", MONTH).proration_token
    change.execute(alice, "business", MONTH, proration_token=token)
    change.execute(alice, "business", MONTH, proration_token=token)

    assert stripe.calls["change_price"] == 2
    assert len(invoiced(stripe, alice)) == 1


def test_changing_back_and_forth_with_one_proration_date_really_changes_each_time(
    preview: PreviewPlanChange,
    change: ChangePlan,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    alice: User,
    clock: FakeClock,
) -> None:
    up_token = preview.execute(alice, "business", MONTH).proration_token
    up = change.execute(alice, "business", MONTH, proration_token=up_token).subscription
    clock.advance(timedelta(seconds=5))
    stored = users.stored(alice.id)
    assert stored is not None
    down_token = preview.execute(stored, "pro", MONTH).proration_token
    change.execute(stored, "pro", MONTH, proration_token=down_token)
    clock.advance(timedelta(seconds=5))
    stored = users.stored(alice.id)
    assert stored is not None

    change.execute(stored, "business", MONTH, proration_token=up_token)

    stored = users.stored(alice.id)
    assert stored is not None
    assert stored.billing.subscription is not None
    at_stripe = stripe.subscriptions[up.id].price_id
    assert stored.billing.subscription.price_id == at_stripe


def test_a_change_keeps_what_another_request_stored_meanwhile(
    change: ChangePlan, users: InMemoryUserRepository, alice: User
) -> None:
    users.save(alice.with_email_verified())

    change.execute(alice, "business", MONTH)

    stored = users.stored(alice.id)
    assert stored is not None
    assert stored.email_verified
    assert stored.billing.subscription is not None
    assert stored.billing.subscription.plan_key == "business"


def test_the_price_already_paid_is_refused(
    either: Either, stripe: EmulatedStripe, alice: User
) -> None:
    with pytest.raises(AlreadySubscribed):
        either(alice, "pro", MONTH)
    assert sum(stripe.calls.values()) == 0


@pytest.mark.parametrize("plan_key", ["free", "nope"])
def test_only_a_paid_plan_of_the_catalog_is_a_target(
    either: Either, alice: User, plan_key: str
) -> None:
    with pytest.raises(UnknownPlan):
        either(alice, plan_key, MONTH)


def test_a_plan_not_sold_in_the_subscriptions_currency_is_refused(
    either: Either,
    stripe: EmulatedStripe,
    seed: Seed,
    subscribe: Subscribe,
) -> None:
    euro, _ = subscribe(seed("bobby"), "price_pro_month_eur")

    with pytest.raises(PriceUnavailable):
        either(euro, "business", MONTH)
    assert sum(stripe.calls.values()) == 0


@pytest.mark.parametrize("status", [None, "canceled", "incomplete_expired"])
def test_without_a_live_subscription_there_is_nothing_to_change(
    either: Either,
    stripe: EmulatedStripe,
    seed: Seed,
    subscribe: Subscribe,
    status: str | None,
) -> None:
    bobby = seed("bobby")
    if status is not None:
        bobby, _ = subscribe(bobby, status=status)
        assert bobby.billing.subscription is not None
        assert bobby.billing.subscription.status is SubscriptionStatus(status)

    with pytest.raises(NoSubscription):
        either(bobby, "business", MONTH)
    assert sum(stripe.calls.values()) == 0


def test_stripe_down_fails_the_change_and_stores_nothing(
    change: ChangePlan,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    alice: User,
) -> None:
    stripe.fail()

    with pytest.raises(PaymentProviderUnavailable):
        change.execute(alice, "business", MONTH)

    assert users.stored(alice.id) == alice


# -- the proration token: the client never chooses the date ---------------------------


def test_a_forged_proration_token_is_refused_and_nothing_changes(
    change: ChangePlan,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    alice: User,
) -> None:
    with pytest.raises(InvalidProrationToken):
        change.execute(alice, "business", MONTH, proration_token="0.forged")

    assert stripe.calls["change_price"] == 0
    assert users.writes == 0
    assert invoiced(stripe, alice) == []


def test_a_stale_proration_token_is_refused(
    preview: PreviewPlanChange,
    change: ChangePlan,
    stripe: EmulatedStripe,
    billing_config: BillingConfig,
    alice: User,
    clock: FakeClock,
) -> None:
    token = preview.execute(alice, "business", MONTH).proration_token
    clock.advance(billing_config.proration_token_ttl + timedelta(seconds=1))

    with pytest.raises(InvalidProrationToken):
        change.execute(alice, "business", MONTH, proration_token=token)
    assert stripe.calls["change_price"] == 0


def test_a_token_for_another_price_is_refused(
    preview: PreviewPlanChange,
    change: ChangePlan,
    stripe: EmulatedStripe,
    alice: User,
) -> None:
    token = preview.execute(alice, "business", MONTH).proration_token

    with pytest.raises(InvalidProrationToken):
        change.execute(alice, "pro", Interval.YEAR, proration_token=token)
    assert stripe.calls["change_price"] == 0


def test_another_users_token_is_refused(
    preview: PreviewPlanChange,
    change: ChangePlan,
    stripe: EmulatedStripe,
    seed: Seed,
    subscribe: Subscribe,
    alice: User,
) -> None:
    bob, _ = subscribe(seed("bobby"), "price_pro_month_usd")
    bobs = preview.execute(bob, "business", MONTH).proration_token

    with pytest.raises(InvalidProrationToken):
        change.execute(alice, "business", MONTH, proration_token=bobs)
    assert stripe.calls["change_price"] == 0


# -- a change whose payment fails is not applied ---------------------------------------


def test_a_change_whose_payment_fails_is_not_applied_and_points_to_the_invoice(
    change: ChangePlan,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    billing_config: BillingConfig,
    alice: User,
    clock: FakeClock,
) -> None:
    stripe.decline_next_payment(alice.billing.customer_id or "")

    with pytest.raises(PaymentFailed) as failed:
        change.execute(alice, "business", MONTH)

    [_, invoice] = stripe.invoices_of(alice.billing.customer_id or "")
    assert invoice.status == "open"
    assert failed.value.payment_url == invoice.hosted_invoice_url
    stored = users.stored(alice.id)
    assert stored is not None
    assert stored.billing.subscription is not None
    assert stored.billing.subscription.price_id == "price_pro_month_usd"
    assert billing_config.entitlements(stored, clock.now()).plan.key == "pro"
