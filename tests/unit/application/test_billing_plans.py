"""The public plan list, the stored subscription view, and the feature gate."""

from __future__ import annotations

import pytest

from core.application.billing import BillingConfig, require_feature
from core.application.errors import PlanRequired
from core.application.queries.get_subscription import GetSubscription
from core.application.queries.list_plans import ListPlans
from core.domain.billing import USERS_EXPORT, PlanCatalog
from tests.fakes import FakeClock, InMemoryUserRepository
from tests.unit.application.conftest import (
    BUSINESS,
    FREE,
    GRACE,
    PRO,
    Seed,
    Subscribe,
)


def test_the_plans_are_listed_free_first_as_configured(catalog: PlanCatalog) -> None:
    assert ListPlans(catalog).execute() == (FREE, PRO, BUSINESS)


def test_the_subscription_view_shows_the_stored_subscription_and_its_rights(
    billing_config: BillingConfig,
    clock: FakeClock,
    seed: Seed,
    subscribe: Subscribe,
    users: InMemoryUserRepository,
) -> None:
    alice, _ = subscribe(seed("alice"), "price_business_month_usd")

    view = GetSubscription(billing_config, clock).execute(alice)

    assert view.subscription == alice.billing.subscription
    assert view.entitlements.plan == BUSINESS
    assert sum(users.calls.values()) == 0


def test_the_subscription_view_of_a_user_without_one_is_free(
    billing_config: BillingConfig, clock: FakeClock, seed: Seed
) -> None:
    view = GetSubscription(billing_config, clock).execute(seed("alice"))

    assert view.subscription is None
    assert view.entitlements.plan == FREE


def test_a_feature_of_the_plan_in_force_passes_the_gate(
    billing_config: BillingConfig, clock: FakeClock, seed: Seed, subscribe: Subscribe
) -> None:
    alice, _ = subscribe(seed("alice"))
    require_feature(billing_config, alice, USERS_EXPORT, clock.now())


def test_a_feature_outside_the_plan_is_refused_naming_the_plans_that_have_it(
    billing_config: BillingConfig, clock: FakeClock, seed: Seed
) -> None:
    with pytest.raises(PlanRequired) as refused:
        require_feature(billing_config, seed("alice"), USERS_EXPORT, clock.now())

    assert refused.value.feature == USERS_EXPORT
    assert refused.value.plans == ["pro", "business"]


def test_the_gate_closes_when_a_failed_payments_grace_runs_out(
    billing_config: BillingConfig, clock: FakeClock, seed: Seed, subscribe: Subscribe
) -> None:
    alice, _ = subscribe(seed("alice"), status="past_due", past_due_since=clock.now())

    require_feature(billing_config, alice, USERS_EXPORT, clock.now() + GRACE / 2)
    with pytest.raises(PlanRequired):
        require_feature(billing_config, alice, USERS_EXPORT, clock.now() + GRACE)
