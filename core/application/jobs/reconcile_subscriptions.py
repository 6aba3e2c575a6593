from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.application.billing import SubscriptionWriter, parse_status
from core.application.errors import PaymentProviderRejected
from core.application.ports import (
    BillingStore,
    Clock,
    OrganizationSeats,
    PaymentProvider,
    Position,
    SubscriptionSnapshot,
    UserRepository,
)
from core.application.seat_billing import SeatBilling
from core.domain.billing import TERMINAL_STATUSES, SubscriptionStatus
from core.domain.user import User

logger = logging.getLogger("strata.billing")


@dataclass
class _Tally:
    checked: int = 0
    repaired: int = 0
    unknown: int = 0
    found: int = 0
    # A second live subscription beside a stored live one: left for a person.
    duplicates: int = 0
    seen: set[str] = field(default_factory=set)
    # Organizations' seats (pass 3), when the job is given them.
    seats_checked: int = 0
    seats_corrected: int = 0
    seats_over_limit: int = 0

    def result(self, seats: bool = False) -> dict[str, Any]:
        counts = {
            "checked": self.checked,
            "repaired": self.repaired,
            "unknown": self.unknown,
            "found": self.found,
            "duplicates": self.duplicates,
        }
        if seats:
            counts |= {
                "seats_checked": self.seats_checked,
                "seats_corrected": self.seats_corrected,
                "seats_over_limit": self.seats_over_limit,
            }
        return counts


@dataclass(frozen=True, slots=True)
class ReconcileSubscriptionsJob:
    """The daily repair of lost webhooks, in two passes.

    1. Every stored subscription that is not in a terminal state is re-read from
       Stripe and stored again only where Stripe's answer differs (an ended one
       leaves the index, so it is not read again; one in step costs no write).
       A subscription Stripe no longer knows is counted and left alone.
    2. Every subscription Stripe has that is not canceled, and that pass 1 did not
       read, is matched to its user (metadata, else the customer's claim): a user
       who has no live subscription stored gets it (a purchase whose webhooks were
       all lost). One beside another live subscription is counted, not changed.
    3. With ``seats`` and ``seat_billing`` (organizations): every organization
       whose subscription has not ended gets its Stripe quantity set to its
       member count where they differ (``SeatBilling.reconcile``; one key per
       organization, day and change, so a second run that day sets nothing new).

    Pages through an index and Stripe's list, never the whole table. Stripe being
    unreachable fails the attempt (the task is retried); safe to run twice.
    """

    store: BillingStore
    users: UserRepository
    provider: PaymentProvider
    writer: SubscriptionWriter
    clock: Clock
    page_size: int = 100
    seats: OrganizationSeats | None = None
    seat_billing: SeatBilling | None = None

    def run(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        tally = _Tally()
        self._recheck_stored(tally)
        self._find_missing(tally)
        if self.seats is not None and self.seat_billing is not None:
            self._reconcile_seats(self.seats, self.seat_billing, tally)
            return tally.result(seats=True)
        return tally.result()

    def _reconcile_seats(
        self, seats: OrganizationSeats, billing: SeatBilling, tally: _Tally
    ) -> None:
        day = self.clock.now().date()
        start: Position | None = None
        while True:
            page = seats.seated_subscriptions(self.page_size, start)
            for org in page.items:
                try:
                    correction = billing.reconcile(org, day)
                except PaymentProviderRejected:
                    logger.warning(
                        "organization subscription unknown to Stripe",
                        extra={
                            "org_id": org.org_id,
                            "subscription_id": org.subscription_id,
                        },
                    )
                    tally.unknown += 1
                    continue
                if correction is None:
                    continue
                tally.seats_checked += 1
                tally.seats_corrected += correction.needed
                tally.seats_over_limit += correction.over_limit
            if page.next_position is None:
                return
            start = page.next_position

    def _recheck_stored(self, tally: _Tally) -> None:
        start: Position | None = None
        while True:
            page = self.store.subscribed_users(self.page_size, start)
            for user in page.items:
                stored = user.billing.subscription
                if stored is None or stored.is_terminal:
                    continue  # the index lags a moment behind writes
                tally.checked += 1
                tally.seen.add(stored.id)
                try:
                    snapshot = self.provider.get_subscription(stored.id)
                except PaymentProviderRejected:
                    logger.warning(
                        "subscription unknown to Stripe",
                        extra={"user_id": user.id, "subscription_id": stored.id},
                    )
                    tally.unknown += 1
                    continue
                if not _differs(stored, snapshot):
                    continue  # in step with Stripe: no write
                after = self.writer.store(user, snapshot, self.clock.now())
                fresh = after.billing.subscription
                if fresh is not None and _differs(stored, fresh):
                    tally.repaired += 1
                    logger.info(
                        "subscription repaired",
                        extra={"user_id": user.id, "status": fresh.status.value},
                    )
            if page.next_position is None:
                return
            start = page.next_position

    def _find_missing(self, tally: _Tally) -> None:
        after: str | None = None
        while True:
            page = self.provider.list_subscriptions(self.page_size, after)
            for snapshot in page.items:
                if snapshot.id in tally.seen:
                    continue
                if parse_status(snapshot.status) in TERMINAL_STATUSES:
                    continue
                user = self._owner(snapshot)
                if user is None:
                    continue  # not one of ours (another app on the account)
                stored = user.billing.subscription
                if stored is not None and stored.id == snapshot.id:
                    continue  # stored meanwhile (a webhook) or terminal: pass 1's
                if stored is not None and stored.status not in _REPLACEABLE:
                    tally.duplicates += 1
                    logger.warning(
                        "a second live subscription at Stripe",
                        extra={"user_id": user.id, "subscription_id": snapshot.id},
                    )
                    continue
                saved = self.writer.store(user, snapshot, self.clock.now())
                if saved.billing.subscription is not None and (
                    saved.billing.subscription.id == snapshot.id
                ):
                    tally.found += 1
                    logger.info(
                        "lost subscription found",
                        extra={"user_id": user.id, "subscription_id": snapshot.id},
                    )
            if page.next_after is None:
                return
            after = page.next_after

    def _owner(self, snapshot: SubscriptionSnapshot) -> User | None:
        if snapshot.user_id:
            user = self.users.get(snapshot.user_id)
            if user is not None and user.billing.customer_id == snapshot.customer_id:
                return user
        owner = self.store.owner_of(snapshot.customer_id)
        return self.users.get(owner) if owner is not None else None


# A stored subscription a found one may take the place of.
_REPLACEABLE = frozenset({*TERMINAL_STATUSES, SubscriptionStatus.INCOMPLETE})


def _differs(before: Any, after: Any) -> bool:
    """Whether two states (stored or as Stripe says) disagree on what matters."""
    fields = ("price_id", "current_period_end", "cancel_at_period_end", "trial_end")
    return str(before.status) != str(after.status) or any(
        getattr(before, name) != getattr(after, name) for name in fields
    )
