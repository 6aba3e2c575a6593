from __future__ import annotations

import pytest

from core.application.billing import BillingConfig
from core.application.commands.open_billing_portal import OpenBillingPortal
from core.application.errors import NoBillingAccount, PaymentProviderUnavailable
from tests.fakes import InMemoryUserRepository
from tests.stripe_inprocess import EmulatedStripe
from tests.unit.application.conftest import PORTAL_RETURN_URL, Seed, Subscribe


@pytest.fixture
def portal(stripe: EmulatedStripe, billing_config: BillingConfig) -> OpenBillingPortal:
    return OpenBillingPortal(stripe.provider, billing_config)


def test_the_portal_opens_for_the_users_own_customer_and_returns_to_the_app(
    portal: OpenBillingPortal,
    stripe: EmulatedStripe,
    seed: Seed,
    subscribe: Subscribe,
    users: InMemoryUserRepository,
) -> None:
    alice, _ = subscribe(seed("alice"))
    subscribe(seed("bobby"))

    url = portal.execute(alice)

    assert url.startswith(f"{stripe.emulator.url}/portal/bps_")
    assert stripe.portals == [(alice.billing.customer_id, PORTAL_RETURN_URL)]
    assert users.writes == 0


def test_the_portal_opens_for_a_customer_whose_subscription_ended(
    portal: OpenBillingPortal,
    stripe: EmulatedStripe,
    seed: Seed,
    subscribe: Subscribe,
) -> None:
    alice, _ = subscribe(seed("alice"), status="canceled")

    portal.execute(alice)

    assert stripe.portals == [(alice.billing.customer_id, PORTAL_RETURN_URL)]


def test_a_user_who_never_checked_out_has_no_portal_and_stripe_is_not_asked(
    portal: OpenBillingPortal, stripe: EmulatedStripe, seed: Seed
) -> None:
    with pytest.raises(NoBillingAccount):
        portal.execute(seed("alice"))
    assert sum(stripe.calls.values()) == 0


def test_stripe_down_fails_the_portal(
    portal: OpenBillingPortal,
    stripe: EmulatedStripe,
    seed: Seed,
    subscribe: Subscribe,
) -> None:
    alice, _ = subscribe(seed("alice"))
    stripe.fail("create_portal")

    with pytest.raises(PaymentProviderUnavailable):
        portal.execute(alice)
