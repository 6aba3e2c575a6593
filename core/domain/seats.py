"""Seats: how many members an organization's plan allows, and how many seats its
subscription should be paid for.

The rule is two sentences. An organization has at most its plan's seat limit
(``limits.seats``) of members, and never fewer than one (its owner). A per-seat
plan's subscription bills one seat per member; any other plan's bills one unit
whatever the member count. Who counts as a member is the organizations module's
business; this module turns a count into a quantity, and Stripe's quantity beside
a count into what to set.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.billing import Plan
from core.domain.errors import DomainError


class SeatsExhausted(DomainError):
    """More members than the plan has seats for: refused before anything is
    written or charged (402 ``seats_exhausted``)."""

    code = "seats_exhausted"

    def __init__(self, plan_key: str, limit: int, wanted: int) -> None:
        super().__init__(
            f"the {plan_key!r} plan has {limit} seats; {wanted} would be taken"
        )
        self.plan_key = plan_key
        self.limit = limit
        self.wanted = wanted


def seat_quantity(plan: Plan, member_count: int) -> int:
    """The quantity the subscription of an organization on ``plan`` with
    ``member_count`` members should have: the member count for a per-seat plan,
    1 for any other.

    ``SeatsExhausted`` above the plan's seat limit (for any plan: the limit caps
    members, and per seat it also caps what is billed); ``ValueError`` below one
    member (an organization always has its owner, so zero is a caller's bug, and
    Stripe would bill nothing)."""
    if member_count < 1:
        raise ValueError("an organization has at least one member")
    limit = plan.seat_limit
    if limit is not None and member_count > limit:
        raise SeatsExhausted(plan.key, limit, member_count)
    return member_count if plan.per_seat else 1


@dataclass(frozen=True, slots=True)
class SeatCorrection:
    """What reconciling one organization's subscription found: Stripe bills
    ``billed``, the organization has ``members``, and ``target`` is the quantity
    to set (``billed`` itself when nothing needs doing). ``over_limit`` says the
    members outnumber the plan's seats: the target is capped at the limit and a
    person must look (the membership writes enforce the limit, so this is drift,
    or a plan change to fewer seats)."""

    billed: int
    members: int
    target: int
    over_limit: bool = False

    @property
    def needed(self) -> bool:
        return self.target != self.billed


def reconcile_seats(plan: Plan, billed: int, members: int) -> SeatCorrection:
    """Compare the quantity Stripe bills with the member count and say what to
    set. Unlike ``seat_quantity`` it never refuses a count: the daily job must
    still bill what it can (the limit) and report the overflow."""
    limit = plan.seat_limit
    over = limit is not None and members > limit
    if not plan.per_seat:
        return SeatCorrection(billed, members, 1, over_limit=over)
    wanted = max(1, members)
    if limit is not None and wanted > limit:
        wanted = limit
    return SeatCorrection(billed, members, wanted, over_limit=over)


def seat_change_key(org_id: str, change_id: str) -> str:
    """The idempotency key of the Stripe call that follows one membership change
    (``change_id``: the id of the join, leave or removal): every retry of that
    change sends it again, so Stripe answers once and charges once."""
    if not org_id or not change_id:
        raise ValueError("a seat change names its organization and its change")
    return f"seats:{org_id}:{change_id}"
