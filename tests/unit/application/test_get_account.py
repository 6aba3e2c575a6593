from __future__ import annotations

from dataclasses import astuple, fields, replace
from datetime import timedelta

import pytest

from core.application.billing import BillingConfig
from core.application.queries.get_account import AccountView, GetAccount
from core.domain.billing import USERS_EXPORT
from core.domain.user import Role
from tests.fakes import FakeClock, InMemoryUserRepository
from tests.unit.application.conftest import FREE, GRACE, PRO, Seed, Subscribe


@pytest.fixture
def get_account(billing_config: BillingConfig, clock: FakeClock) -> GetAccount:
    return GetAccount(billing_config, clock)


def test_a_user_sees_their_own_account_without_any_further_read(
    seed: Seed, users: InMemoryUserRepository, get_account: GetAccount
) -> None:
    alice = seed("Alice", Role.ADMIN, email="Alice@Example.com")

    view = get_account.execute(alice)

    assert view == AccountView(
        id=alice.id,
        username="Alice",
        email="Alice@Example.com",
        role="admin",
        is_active=True,
        created_at=alice.created_at.isoformat(),
        email_verified=False,
        plan="free",
        subscription_status=None,
        current_period_end=None,
        cancel_at_period_end=False,
        entitlements=view.entitlements,
    )
    assert sum(users.calls.values()) == 0


def test_a_user_sees_whether_their_email_is_verified(
    seed: Seed, users: InMemoryUserRepository, get_account: GetAccount
) -> None:
    alice = users.save(seed("alice").with_email_verified())

    assert get_account.execute(alice).email_verified is True


def test_the_account_view_never_carries_the_password_hash(
    seed: Seed, get_account: GetAccount
) -> None:
    alice = seed("alice")
    view = get_account.execute(alice)
    assert alice.password_hash not in astuple(view)
    assert "password_hash" not in {f.name for f in fields(view)}


# -- the plan in force -----------------------------------------------------------------


def test_a_user_without_a_subscription_has_the_free_plan_and_its_rights(
    seed: Seed, get_account: GetAccount
) -> None:
    view = get_account.execute(seed("alice"))

    assert view.plan == "free"
    assert view.entitlements.plan == FREE
    assert view.entitlements.limits == FREE.limits
    assert not view.entitlements.allows(USERS_EXPORT)
    assert view.entitlements.grace_until is None


def test_an_active_pro_subscription_shows_pro_with_its_period(
    seed: Seed,
    subscribe: Subscribe,
    users: InMemoryUserRepository,
    get_account: GetAccount,
) -> None:
    alice, snapshot = subscribe(seed("alice"))

    view = get_account.execute(alice)

    assert view.plan == "pro"
    assert view.subscription_status == "active"
    assert view.current_period_end == snapshot.current_period_end
    assert view.current_period_end is not None
    assert view.cancel_at_period_end is False
    assert view.entitlements.plan == PRO
    assert view.entitlements.allows(USERS_EXPORT)
    assert sum(users.calls.values()) == 0


def test_a_subscription_canceled_at_period_end_still_shows_its_plan(
    seed: Seed,
    subscribe: Subscribe,
    users: InMemoryUserRepository,
    get_account: GetAccount,
) -> None:
    alice, _ = subscribe(seed("alice"))
    subscription = alice.billing.subscription
    assert subscription is not None
    alice = alice.with_billing(
        alice.billing.with_subscription(
            replace(subscription, cancel_at_period_end=True)
        )
    )

    view = get_account.execute(alice)

    assert (view.plan, view.cancel_at_period_end) == ("pro", True)


def test_a_past_due_subscription_inside_its_grace_shows_pro_until_the_deadline(
    seed: Seed, subscribe: Subscribe, clock: FakeClock, get_account: GetAccount
) -> None:
    since = clock.now()
    alice, _ = subscribe(seed("alice"), status="past_due", past_due_since=since)
    clock.advance(GRACE - timedelta(seconds=1))

    view = get_account.execute(alice)

    assert view.plan == "pro"
    assert view.subscription_status == "past_due"
    assert view.entitlements.grace_until == since + GRACE
    assert view.entitlements.allows(USERS_EXPORT)


def test_a_past_due_subscription_after_its_grace_shows_free(
    seed: Seed, subscribe: Subscribe, clock: FakeClock, get_account: GetAccount
) -> None:
    since = clock.now()
    alice, _ = subscribe(seed("alice"), status="past_due", past_due_since=since)
    clock.advance(GRACE)

    view = get_account.execute(alice)

    assert view.plan == "free"
    assert view.subscription_status == "past_due"
    assert view.entitlements.grace_until is None
    assert not view.entitlements.allows(USERS_EXPORT)


def test_a_canceled_subscription_shows_free_and_says_it_is_canceled(
    seed: Seed, subscribe: Subscribe, get_account: GetAccount
) -> None:
    alice, _ = subscribe(seed("alice"), status="canceled")

    view = get_account.execute(alice)

    assert view.plan == "free"
    assert view.subscription_status == "canceled"
    assert view.entitlements.plan == FREE
