"""Plans, the catalog, and which plan is in force for a billing state at a moment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain.billing import (
    PAID_STATUSES,
    USERS_EXPORT,
    Billing,
    Interval,
    InvalidPlanCatalog,
    Plan,
    PlanCatalog,
    Price,
    Subscription,
    SubscriptionStatus,
    entitlements,
    grace_deadline,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
GRACE = timedelta(days=7)

FREE = Plan(key="free", name="Free", limits={"seats": 1})
PRO_MONTH_USD = Price("price_pro_month_usd", Interval.MONTH, "usd", 1500)
PRO_YEAR_USD = Price("price_pro_year_usd", Interval.YEAR, "usd", 15000)
PRO_MONTH_EUR = Price("price_pro_month_eur", Interval.MONTH, "eur", 1400)
PRO = Plan(
    key="pro",
    name="Pro",
    features=frozenset({USERS_EXPORT}),
    limits={"seats": 5},
    prices=(PRO_MONTH_USD, PRO_YEAR_USD, PRO_MONTH_EUR),
)
TEAM = Plan(
    key="team",
    name="Team",
    features=frozenset({USERS_EXPORT, "sso"}),
    prices=(Price("price_team_month_usd", Interval.MONTH, "usd", 4000),),
)
CATALOG = PlanCatalog(plans=(FREE, PRO, TEAM))


def subscribed(
    status: SubscriptionStatus,
    *,
    plan_key: str = "pro",
    past_due_since: datetime | None = None,
) -> Billing:
    return Billing(
        customer_id="cus_1",
        subscription=Subscription(
            id="sub_1",
            status=status,
            price_id=PRO_MONTH_USD.id,
            plan_key=plan_key,
            interval=Interval.MONTH,
            currency="usd",
            item_id="si_1",
            current_period_end=NOW + timedelta(days=20),
            cancel_at_period_end=False,
            observed_at=NOW - timedelta(days=10),
            past_due_since=past_due_since,
        ),
    )


# -- the catalog -----------------------------------------------------------------------


def test_a_catalog_refuses_two_plans_with_one_key() -> None:
    with pytest.raises(InvalidPlanCatalog, match="unique"):
        PlanCatalog(plans=(FREE, PRO, Plan(key="pro", name="Pro again")))


def test_a_catalog_refuses_to_be_without_its_free_plan() -> None:
    with pytest.raises(InvalidPlanCatalog, match="free"):
        PlanCatalog(plans=(PRO,))
    with pytest.raises(InvalidPlanCatalog, match="'basic'"):
        PlanCatalog(plans=(FREE, PRO), free_key="basic")


def test_a_catalog_refuses_a_free_plan_with_prices() -> None:
    priced_free = Plan(key="free", name="Free", prices=(PRO_MONTH_USD,))
    with pytest.raises(InvalidPlanCatalog, match="free plan cannot have prices"):
        PlanCatalog(plans=(priced_free,))


def test_a_catalog_refuses_one_price_id_in_two_plans() -> None:
    other = Plan(key="other", name="Other", prices=(PRO_MONTH_USD,))
    with pytest.raises(InvalidPlanCatalog, match="price id"):
        PlanCatalog(plans=(FREE, PRO, other))


def test_a_catalog_may_name_another_plan_as_the_free_one() -> None:
    basic = Plan(key="basic", name="Basic")
    catalog = PlanCatalog(plans=(basic, PRO), free_key="basic")
    assert catalog.free is basic


def test_a_plan_is_paid_when_it_has_prices() -> None:
    assert PRO.is_paid
    assert not FREE.is_paid


def test_a_plan_finds_its_price_by_interval_and_currency() -> None:
    assert PRO.price(Interval.MONTH, "usd") == PRO_MONTH_USD
    assert PRO.price(Interval.YEAR, "usd") == PRO_YEAR_USD
    assert PRO.price(Interval.MONTH, "eur") == PRO_MONTH_EUR
    assert PRO.price(Interval.YEAR, "eur") is None
    assert PRO.price(Interval.MONTH, "USD") is None  # Stripe writes lowercase
    assert FREE.price(Interval.MONTH, "usd") is None


def test_the_catalog_finds_a_plan_by_key_and_by_price_id() -> None:
    assert CATALOG.get("team") is TEAM
    assert CATALOG.get("nope") is None
    assert CATALOG.by_price("price_pro_year_usd") == (PRO, PRO_YEAR_USD)
    assert CATALOG.by_price("price_gone") is None


def test_the_catalog_names_the_plans_that_have_a_feature_in_order() -> None:
    assert CATALOG.plans_with(USERS_EXPORT) == ["pro", "team"]
    assert CATALOG.plans_with("sso") == ["team"]
    assert CATALOG.plans_with("teleport") == []


# -- entitlements ----------------------------------------------------------------------


def test_without_a_subscription_the_free_plan_is_in_force() -> None:
    rights = entitlements(Billing(), CATALOG, NOW, GRACE)
    assert rights.plan is FREE
    assert rights.grace_until is None
    assert not rights.allows(USERS_EXPORT)
    assert rights.limits == {"seats": 1}


@pytest.mark.parametrize("status", sorted(PAID_STATUSES))
def test_an_active_or_trialing_subscription_gives_its_plan(
    status: SubscriptionStatus,
) -> None:
    rights = entitlements(subscribed(status), CATALOG, NOW, GRACE)
    assert rights.plan is PRO
    assert rights.grace_until is None
    assert rights.allows(USERS_EXPORT)
    assert rights.features == frozenset({USERS_EXPORT})
    assert rights.limits == {"seats": 5}


@pytest.mark.parametrize(
    "status",
    [
        SubscriptionStatus.INCOMPLETE,
        SubscriptionStatus.INCOMPLETE_EXPIRED,
        SubscriptionStatus.CANCELED,
        SubscriptionStatus.UNPAID,
        SubscriptionStatus.PAUSED,
    ],
)
def test_a_subscription_that_is_not_paid_for_gives_the_free_plan(
    status: SubscriptionStatus,
) -> None:
    billing = subscribed(status, past_due_since=NOW - timedelta(days=1))
    rights = entitlements(billing, CATALOG, NOW, GRACE)
    assert rights.plan is FREE
    assert rights.grace_until is None


def test_every_status_is_covered_by_the_tests_above() -> None:
    covered = set(PAID_STATUSES) | {
        SubscriptionStatus.INCOMPLETE,
        SubscriptionStatus.INCOMPLETE_EXPIRED,
        SubscriptionStatus.CANCELED,
        SubscriptionStatus.UNPAID,
        SubscriptionStatus.PAUSED,
        SubscriptionStatus.PAST_DUE,
    }
    assert covered == set(SubscriptionStatus)


def test_a_past_due_subscription_keeps_its_plan_until_the_grace_deadline() -> None:
    since = NOW - timedelta(days=3)
    billing = subscribed(SubscriptionStatus.PAST_DUE, past_due_since=since)

    rights = entitlements(billing, CATALOG, NOW, GRACE)

    assert rights.plan is PRO
    assert rights.grace_until == since + GRACE
    assert billing.subscription is not None
    assert grace_deadline(billing.subscription, GRACE) == since + GRACE


def test_the_grace_ends_exactly_at_the_deadline() -> None:
    since = NOW - GRACE
    billing = subscribed(SubscriptionStatus.PAST_DUE, past_due_since=since)

    just_before = entitlements(billing, CATALOG, NOW - timedelta(microseconds=1), GRACE)
    at_deadline = entitlements(billing, CATALOG, NOW, GRACE)

    assert just_before.plan is PRO
    assert at_deadline.plan is FREE
    assert at_deadline.grace_until is None


@pytest.mark.parametrize(
    "status", [SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE]
)
def test_a_subscription_to_a_plan_no_longer_in_the_catalog_gives_free(
    status: SubscriptionStatus,
) -> None:
    billing = subscribed(status, plan_key="legacy", past_due_since=NOW)
    rights = entitlements(billing, CATALOG, NOW, GRACE)
    assert rights.plan is FREE
    assert rights.grace_until is None


def test_a_subscription_is_terminal_only_once_canceled_or_expired() -> None:
    terminal = {
        status
        for status in SubscriptionStatus
        if subscribed(status).subscription.is_terminal  # type: ignore[union-attr]
    }
    assert terminal == {
        SubscriptionStatus.CANCELED,
        SubscriptionStatus.INCOMPLETE_EXPIRED,
    }


def test_billing_changes_give_new_values_and_keep_the_rest() -> None:
    billing = subscribed(SubscriptionStatus.ACTIVE)
    moved = billing.with_customer("cus_2")
    cleared = billing.with_subscription(None)

    assert (moved.customer_id, moved.subscription) == ("cus_2", billing.subscription)
    assert (cleared.customer_id, cleared.subscription) == ("cus_1", None)
    assert billing.customer_id == "cus_1"
