"""Seats: a per-seat plan's quantity is the member count within the seat limit;
reconciling compares Stripe's quantity with the members and says what to set."""

from __future__ import annotations

import pytest

from core.domain.billing import Interval, InvalidPlanCatalog, Plan, Price
from core.domain.seats import (
    SeatCorrection,
    SeatsExhausted,
    reconcile_seats,
    seat_change_key,
    seat_quantity,
)

TEAM = Plan(
    key="team",
    name="Team",
    limits={"seats": 5},
    prices=(Price("price_team", Interval.MONTH, "usd", 800),),
    per_seat=True,
)
FLAT = Plan(
    key="pro",
    name="Pro",
    limits={"seats": 5},
    prices=(Price("price_pro", Interval.MONTH, "usd", 1500),),
)
UNLIMITED = Plan(
    key="pro",
    name="Pro",
    prices=(Price("price_pro", Interval.MONTH, "usd", 1500),),
)


@pytest.mark.parametrize("members", [1, 2, 5])
def test_a_per_seat_plan_bills_one_seat_per_member(members: int) -> None:
    assert seat_quantity(TEAM, members) == members


@pytest.mark.parametrize("members", [1, 5])
def test_a_flat_plan_bills_one_unit_whatever_the_member_count(members: int) -> None:
    assert seat_quantity(FLAT, members) == 1


@pytest.mark.parametrize("plan", [TEAM, FLAT])
def test_one_member_more_than_the_plans_seats_is_seats_exhausted(plan: Plan) -> None:
    with pytest.raises(SeatsExhausted) as refused:
        seat_quantity(plan, 6)

    assert refused.value.code == "seats_exhausted"
    assert (refused.value.limit, refused.value.wanted) == (5, 6)


def test_a_plan_without_a_seat_limit_takes_any_number_of_members() -> None:
    assert seat_quantity(UNLIMITED, 10_000) == 1


@pytest.mark.parametrize("members", [0, -1])
def test_an_organization_without_members_is_a_callers_bug(members: int) -> None:
    with pytest.raises(ValueError, match="at least one member"):
        seat_quantity(TEAM, members)


@pytest.mark.parametrize("limits", [{}, {"seats": 0}, {"seats": -2}])
def test_a_per_seat_plan_needs_a_seat_limit_of_at_least_one(
    limits: dict[str, int],
) -> None:
    with pytest.raises(InvalidPlanCatalog, match=r"per-seat plan 'team'.*seats"):
        Plan(key="team", name="Team", limits=limits, per_seat=True)


@pytest.mark.parametrize(
    ("billed", "members", "expected"),
    [
        (3, 3, SeatCorrection(3, 3, 3)),
        (3, 4, SeatCorrection(3, 4, 4)),
        (4, 2, SeatCorrection(4, 2, 2)),
        # Drift beyond the limit: bill the limit, flag it for a person.
        (5, 7, SeatCorrection(5, 7, 5, over_limit=True)),
        (3, 7, SeatCorrection(3, 7, 5, over_limit=True)),
        # No members left (an org being deleted): one seat, never zero.
        (2, 0, SeatCorrection(2, 0, 1)),
    ],
)
def test_reconciling_sets_the_member_count_within_the_limit(
    billed: int, members: int, expected: SeatCorrection
) -> None:
    correction = reconcile_seats(TEAM, billed, members)

    assert correction == expected
    assert correction.needed is (expected.target != billed)


def test_reconciling_a_flat_plan_wants_one_unit() -> None:
    assert reconcile_seats(FLAT, 3, 4) == SeatCorrection(3, 4, 1)
    assert not reconcile_seats(FLAT, 1, 4).needed


def test_a_membership_changes_key_names_the_organization_and_the_change() -> None:
    assert seat_change_key("org1", "m-42") == "seats:org1:m-42"
    with pytest.raises(ValueError, match="names its organization"):
        seat_change_key("org1", "")
