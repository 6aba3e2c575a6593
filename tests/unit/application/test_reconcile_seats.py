"""The daily reconciliation's seats pass: each organization's Stripe quantity is
set to its member count where they differ, once, whatever else the job does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.application.billing import BillingConfig, SubscriptionWriter
from core.application.jobs.reconcile_subscriptions import ReconcileSubscriptionsJob
from core.application.ports import Position, SeatedPage, SeatedSubscription
from core.application.seat_billing import SeatBilling
from core.domain.billing import Interval, PlanCatalog
from tests.fakes import FakeClock, InMemoryBillingStore, InMemoryUserRepository
from tests.stripe_inprocess import EmulatedStripe
from tests.unit.application.conftest import FREE, PRO, TEAM


class Organizations:
    """``OrganizationSeats`` over a list, paged by position."""

    def __init__(self) -> None:
        self.orgs: list[SeatedSubscription] = []
        self.pages_read = 0

    def seated_subscriptions(self, limit: int, start: Position | None) -> SeatedPage:
        self.pages_read += 1
        first = int(start["i"]) if start else 0
        rows = self.orgs[first : first + limit]
        more = first + limit < len(self.orgs)
        return SeatedPage(rows, {"i": str(first + limit)} if more else None)


@pytest.fixture
def catalog() -> PlanCatalog:
    return PlanCatalog(plans=(FREE, PRO, TEAM))


@pytest.fixture
def orgs() -> Organizations:
    return Organizations()


@pytest.fixture
def seats(stripe: EmulatedStripe, billing_config: BillingConfig) -> SeatBilling:
    return SeatBilling(stripe.provider, billing_config)


@pytest.fixture
def job(
    billing_store: InMemoryBillingStore,
    users: InMemoryUserRepository,
    stripe: EmulatedStripe,
    writer: SubscriptionWriter,
    clock: FakeClock,
    orgs: Organizations,
    seats: SeatBilling,
) -> ReconcileSubscriptionsJob:
    return ReconcileSubscriptionsJob(
        billing_store,
        users,
        stripe.provider,
        writer,
        clock,
        page_size=2,
        seats=orgs,
        seat_billing=seats,
    )


def subscribed(
    stripe: EmulatedStripe,
    seats: SeatBilling,
    orgs: Organizations,
    org_id: str,
    billed: int,
    members: int,
) -> str:
    """``org_id`` paid Team for ``billed`` seats and now has ``members``."""
    customer = stripe.provider.create_customer(
        org_id, f"{org_id}@example.com", idempotency_key=f"customer-{org_id}"
    )
    url = seats.start_checkout(
        org_id=org_id,
        customer_id=customer,
        plan_key="team",
        interval=Interval.MONTH,
        currency="usd",
        member_count=billed,
        idempotency_key=f"checkout-{org_id}",
    )
    sub_id = stripe.pay_checkout(url).id
    orgs.orgs.append(SeatedSubscription(org_id, sub_id, members))
    return sub_id


def test_a_seat_change_that_never_reached_stripe_is_billed_by_the_daily_job(
    job: ReconcileSubscriptionsJob,
    stripe: EmulatedStripe,
    seats: SeatBilling,
    orgs: Organizations,
    clock: FakeClock,
) -> None:
    drifted = subscribed(stripe, seats, orgs, "org1", billed=3, members=4)
    in_step = subscribed(stripe, seats, orgs, "org2", billed=2, members=2)
    shrunk = subscribed(stripe, seats, orgs, "org3", billed=5, members=1)
    clock.advance(timedelta(days=3))
    stripe.reset_counts()

    result = job.run({})

    assert result == {
        "checked": 0,
        "repaired": 0,
        "unknown": 0,
        "found": 0,  # organizations' subscriptions are not users' lost ones
        "duplicates": 0,
        "seats_checked": 3,
        "seats_corrected": 2,
        "seats_over_limit": 0,
    }
    assert [stripe.subscription(s).quantity for s in (drifted, in_step, shrunk)] == [
        4,
        2,
        1,
    ]
    assert orgs.pages_read == 2
    day = clock.now().date().isoformat()
    assert stripe.idempotency_keys == [
        f"seats:org1:reconcile-{day}-3-4",
        f"seats:org3:reconcile-{day}-5-1",
    ]


def test_running_the_job_twice_sets_the_seats_once(
    job: ReconcileSubscriptionsJob,
    stripe: EmulatedStripe,
    seats: SeatBilling,
    orgs: Organizations,
) -> None:
    subscribed(stripe, seats, orgs, "org1", billed=3, members=4)
    job.run({})
    invoices = len(stripe.emulator.state.invoices)

    again = job.run({})

    assert (again["seats_checked"], again["seats_corrected"]) == (1, 0)
    assert len(stripe.emulator.state.invoices) == invoices


def test_more_members_than_seats_bills_the_limit_and_is_counted(
    job: ReconcileSubscriptionsJob,
    stripe: EmulatedStripe,
    seats: SeatBilling,
    orgs: Organizations,
) -> None:
    sub_id = subscribed(stripe, seats, orgs, "org1", billed=18, members=25)

    result = job.run({})

    assert (result["seats_corrected"], result["seats_over_limit"]) == (1, 1)
    assert stripe.subscription(sub_id).quantity == 20


def test_ended_and_unknown_subscriptions_are_not_billed(
    job: ReconcileSubscriptionsJob,
    stripe: EmulatedStripe,
    seats: SeatBilling,
    orgs: Organizations,
) -> None:
    ended = subscribed(stripe, seats, orgs, "org1", billed=3, members=4)
    stripe.update_subscription(ended, status="canceled")
    orgs.orgs.append(SeatedSubscription("org2", "sub_gone", 2))
    stripe.reset_counts()

    result = job.run({})

    assert (result["seats_checked"], result["unknown"]) == (0, 1)
    assert stripe.calls["set_seat_quantity"] == 0
    assert stripe.subscription(ended).quantity == 3
