"""Seat billing (``SeatBilling`` over Strata's Stripe adapter and the in-process
emulator): checkout for the member count, the quantity following membership
changes with the proration the settings ask for, a retried change charging once,
and the seat limit refused before Stripe is asked."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from fractions import Fraction

import pytest

from core.application.billing import BillingConfig
from core.application.errors import PaymentProviderRejected
from core.application.ports import SeatChange
from core.application.seat_billing import SeatBilling
from core.domain.billing import Interval, PlanCatalog
from core.domain.seats import SeatsExhausted
from tests.fakes import FakeClock
from tests.stripe_inprocess import EmulatedStripe
from tests.unit.application.conftest import FREE, PRO, SEAT_PRICE, TEAM


@pytest.fixture
def catalog() -> PlanCatalog:
    return PlanCatalog(plans=(FREE, PRO, TEAM))


@pytest.fixture
def seats(stripe: EmulatedStripe, billing_config: BillingConfig) -> SeatBilling:
    return SeatBilling(stripe.provider, billing_config)


def _subscribe(stripe: EmulatedStripe, seats: SeatBilling, members: int) -> str:
    """An organization with ``members`` members subscribed to Team through
    Checkout and paid; its subscription's id."""
    customer = stripe.provider.create_customer(
        "org1", "billing@org.example", idempotency_key="customer-org1"
    )
    url = seats.start_checkout(
        org_id="org1",
        customer_id=customer,
        plan_key="team",
        interval=Interval.MONTH,
        currency="usd",
        member_count=members,
        idempotency_key="checkout-org1-1",
    )
    subscription = stripe.pay_checkout(url)
    stripe.reset_counts()
    return subscription.id


def _follow(
    seats: SeatBilling, sub_id: str, members: int, change_id: str
) -> SeatChange | None:
    return seats.follow_members(
        org_id="org1",
        subscription_id=sub_id,
        plan_key="team",
        member_count=members,
        change_id=change_id,
    )


def _invoice_count(stripe: EmulatedStripe) -> int:
    return len(stripe.emulator.state.invoices)


def test_an_organizations_checkout_is_for_as_many_seats_as_it_has_members(
    stripe: EmulatedStripe, seats: SeatBilling
) -> None:
    sub_id = _subscribe(stripe, seats, members=3)

    (checkout,) = stripe.checkouts
    assert (checkout.quantity, checkout.org_id, checkout.user_id) == (3, "org1", None)
    subscription = stripe.subscription(sub_id)
    assert (subscription.quantity, subscription.org_id) == (3, "org1")
    (first,) = stripe.invoices_of(subscription.customer_id)
    assert first.amount_due == 3 * SEAT_PRICE


def test_a_new_member_adds_a_seat_and_invoices_its_prorated_price_at_once(
    stripe: EmulatedStripe, seats: SeatBilling, clock: FakeClock
) -> None:
    sub_id = _subscribe(stripe, seats, members=3)
    start, end = stripe.period_of(sub_id)
    clock.advance(timedelta(days=10))
    before = len(stripe.emulator.bodies)

    change = seats.follow_members(
        org_id="org1",
        subscription_id=sub_id,
        plan_key="team",
        member_count=4,
        change_id="join-m4",
    )

    assert change is not None
    assert change.quantity == 4
    assert change.invoice_id is not None
    assert stripe.subscription(sub_id).quantity == 4
    invoice = stripe.emulator.state.invoices[change.invoice_id]
    remaining = end - int(clock.now().timestamp())
    # Unit price x 1 seat x the rest of the period, as the plan-change
    # proration computes it (the new quantity's charge less the old's credit).
    expected = round(Fraction(SEAT_PRICE * 4 * remaining, end - start)) - round(
        Fraction(SEAT_PRICE * 3 * remaining, end - start)
    )
    assert invoice["total"] == expected
    assert 0 < expected < SEAT_PRICE
    assert invoice["status"] == "paid"
    assert stripe.idempotency_keys == ["seats:org1:join-m4"]
    updated = [
        json.loads(body)
        for body in list(stripe.emulator.bodies.values())[before:]
        if json.loads(body)["type"] == "customer.subscription.updated"
    ]
    assert [e["data"]["object"]["items"]["data"][0]["quantity"] for e in updated] == [4]
    assert updated[0]["data"]["previous_attributes"]["items"]["data"][0][
        "quantity"
    ] == (3)


def test_a_member_leaving_credits_the_unused_time_of_the_seat(
    stripe: EmulatedStripe, seats: SeatBilling, clock: FakeClock
) -> None:
    sub_id = _subscribe(stripe, seats, members=3)
    clock.advance(timedelta(days=15))

    change = seats.follow_members(
        org_id="org1",
        subscription_id=sub_id,
        plan_key="team",
        member_count=2,
        change_id="leave-m3",
    )

    assert change is not None
    assert change.quantity == 2
    assert change.invoice_id is not None
    invoice = stripe.emulator.state.invoices[change.invoice_id]
    assert invoice["total"] < 0  # a credit, to the customer's balance
    assert invoice["amount_due"] == 0


def test_a_retried_membership_change_answers_the_same_and_charges_once(
    stripe: EmulatedStripe, seats: SeatBilling, clock: FakeClock
) -> None:
    sub_id = _subscribe(stripe, seats, members=3)
    clock.advance(timedelta(days=10))
    first = _follow(seats, sub_id, 4, "join-m4")
    # Another member joins meanwhile: were the retry below sent anew, it would set
    # 4 seats again and credit one.
    _follow(seats, sub_id, 5, "join-m5")
    invoices = _invoice_count(stripe)
    events = len(stripe.emulator.bodies)

    clock.advance(timedelta(minutes=5))
    again = _follow(seats, sub_id, 4, "join-m4")

    assert again == first
    assert first is not None
    assert first.invoice_id is not None
    assert stripe.subscription(sub_id).quantity == 5
    assert _invoice_count(stripe) == invoices
    assert len(stripe.emulator.bodies) == events  # no update, no event
    updates = [r["idempotency_key"] for r in stripe.emulator.requests]
    assert updates.count("seats:org1:join-m4") == 2


def test_a_used_change_key_with_another_count_is_refused_and_changes_nothing(
    stripe: EmulatedStripe, seats: SeatBilling
) -> None:
    sub_id = _subscribe(stripe, seats, members=3)
    _follow(seats, sub_id, 4, "join-m4")
    invoices = _invoice_count(stripe)

    with pytest.raises(PaymentProviderRejected):
        _follow(seats, sub_id, 5, "join-m4")

    assert stripe.subscription(sub_id).quantity == 4
    assert _invoice_count(stripe) == invoices


def test_with_create_prorations_the_difference_waits_for_the_next_invoice(
    stripe: EmulatedStripe, billing_config: BillingConfig, clock: FakeClock
) -> None:
    seats = SeatBilling(
        stripe.provider, replace(billing_config, proration_behavior="create_prorations")
    )
    sub_id = _subscribe(stripe, seats, members=3)
    clock.advance(timedelta(days=10))
    invoices = _invoice_count(stripe)

    change = seats.follow_members(
        org_id="org1",
        subscription_id=sub_id,
        plan_key="team",
        member_count=4,
        change_id="join-m4",
    )

    assert change == SeatChange(stripe.subscription(sub_id), 4, None)
    assert _invoice_count(stripe) == invoices
    pending = stripe.emulator.state.store.clocks[sub_id].pending
    assert len(pending) == 2
    assert sum(line["amount"] for line in pending) > 0


def test_more_members_than_the_plan_has_seats_is_refused_before_stripe_is_asked(
    stripe: EmulatedStripe, seats: SeatBilling
) -> None:
    sub_id = _subscribe(stripe, seats, members=20)

    with pytest.raises(SeatsExhausted) as refused:
        seats.follow_members(
            org_id="org1",
            subscription_id=sub_id,
            plan_key="team",
            member_count=21,
            change_id="join-m21",
        )
    with pytest.raises(SeatsExhausted):
        seats.start_checkout(
            org_id="org2",
            customer_id="cus_any",
            plan_key="team",
            interval=Interval.MONTH,
            currency="usd",
            member_count=21,
            idempotency_key="checkout-org2-1",
        )

    assert (refused.value.code, refused.value.limit, refused.value.wanted) == (
        "seats_exhausted",
        20,
        21,
    )
    assert stripe.sent == []
    assert stripe.subscription(sub_id).quantity == 20


def test_a_flat_plans_quantity_does_not_follow_the_members(
    stripe: EmulatedStripe, seats: SeatBilling
) -> None:
    assert (
        seats.follow_members(
            org_id="org1",
            subscription_id="sub_any",
            plan_key="pro",
            member_count=4,
            change_id="join-m4",
        )
        is None
    )
    with pytest.raises(SeatsExhausted):  # Pro's 5 seats still cap the members
        seats.follow_members(
            org_id="org1",
            subscription_id="sub_any",
            plan_key="pro",
            member_count=6,
            change_id="join-m6",
        )
    assert stripe.sent == []


def test_an_ended_or_unknown_subscription_is_refused_by_stripe(
    stripe: EmulatedStripe, seats: SeatBilling
) -> None:
    sub_id = _subscribe(stripe, seats, members=3)
    stripe.update_subscription(sub_id, status="canceled")

    with pytest.raises(PaymentProviderRejected):
        _follow(seats, sub_id, 4, "join-m4")
    with pytest.raises(PaymentProviderRejected):
        _follow(seats, "sub_unknown", 4, "join-m4b")

    assert stripe.subscription(sub_id).quantity == 3
