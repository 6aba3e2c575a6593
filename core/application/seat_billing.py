"""Seat billing at Stripe, for the organization use cases to call.

The organization commands (subscribe, accept an invitation, remove a member,
leave) and the daily reconciliation share this object, so the seat rule
(``core.domain.seats``), the idempotency key of a membership change and the
proration the settings ask for are decided in one place. It never writes our own
state: the caller stores the membership (atomically, with the seat limit) and
what Stripe answered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from core.application.billing import BillingConfig, parse_status
from core.application.errors import PriceUnavailable, UnknownPlan
from core.application.ports import (
    PaymentProvider,
    SeatChange,
    SeatedSubscription,
)
from core.domain.billing import TERMINAL_STATUSES, Interval, Plan
from core.domain.seats import (
    SeatCorrection,
    reconcile_seats,
    seat_change_key,
    seat_quantity,
)

logger = logging.getLogger("strata.billing")


@dataclass(frozen=True, slots=True)
class SeatBilling:
    """Keeps an organization's subscription quantity in step with its members.

    Every method checks the seat limit before calling Stripe: a count above it is
    ``SeatsExhausted`` and Stripe is never asked.
    """

    provider: PaymentProvider
    config: BillingConfig

    def plan(self, plan_key: str) -> Plan:
        """A paid plan of the catalog, else ``UnknownPlan``."""
        plan = self.config.catalog.get(plan_key)
        if plan is None or not plan.is_paid:
            raise UnknownPlan(f"no paid plan named {plan_key!r}")
        return plan

    def start_checkout(
        self,
        *,
        org_id: str,
        customer_id: str,
        plan_key: str,
        interval: Interval,
        currency: str,
        member_count: int,
        idempotency_key: str,
        trial_days: int = 0,
    ) -> str:
        """The Checkout URL for ``org_id`` to subscribe to ``plan_key``: a
        per-seat plan for ``member_count`` seats, any other for one.
        ``UnknownPlan``, ``PriceUnavailable`` (no such interval and currency) and
        ``SeatsExhausted`` (more members than the plan has seats) before Stripe
        is called."""
        plan = self.plan(plan_key)
        price = plan.price(interval, currency)
        if price is None:
            raise PriceUnavailable(
                f"{plan.key!r} is not sold per {interval.value} in {currency!r}"
            )
        return self.provider.create_seat_checkout(
            customer_id=customer_id,
            price_id=price.id,
            org_id=org_id,
            quantity=seat_quantity(plan, member_count),
            success_url=self.config.success_url,
            cancel_url=self.config.cancel_url,
            idempotency_key=idempotency_key,
            trial_days=trial_days,
        )

    def follow_members(
        self,
        *,
        org_id: str,
        subscription_id: str,
        plan_key: str,
        member_count: int,
        change_id: str,
    ) -> SeatChange | None:
        """After the membership change ``change_id`` (a join, a leave, a
        removal), bill ``member_count`` seats: the quantity is set at Stripe,
        prorated as the billing settings say, under the key
        ``seats:{org_id}:{change_id}``, so a retry of the same change answers the
        first result and charges nothing more. None for a plan not sold per seat
        (its price does not follow the members). ``SeatsExhausted`` before
        Stripe is called when the count is above the plan's seats."""
        plan = self.plan(plan_key)
        quantity = seat_quantity(plan, member_count)
        if not plan.per_seat:
            return None
        return self.provider.set_seat_quantity(
            subscription_id,
            quantity,
            proration_behavior=self.config.proration_behavior,
            idempotency_key=seat_change_key(org_id, change_id),
        )

    def reconcile(self, org: SeatedSubscription, day: date) -> SeatCorrection | None:
        """Re-read ``org``'s subscription and set its quantity to the member
        count if they differ; what was found, or None when the subscription has
        ended or its price is in no plan (nothing to bill). The plan is the one
        of Stripe's price, not ours: Stripe bills by it. More members than seats
        bills the limit and is logged for a person to look at. The key names the
        day and the change, so running the job twice in a day sets the quantity
        once."""
        snapshot = self.provider.get_subscription(org.subscription_id)
        if parse_status(snapshot.status) in TERMINAL_STATUSES:
            return None
        found = self.config.catalog.plan_of_price(snapshot.price_id)
        if found is None:
            logger.error(
                "organization subscription price is in no plan",
                extra={"org_id": org.org_id, "subscription_id": snapshot.id},
            )
            return None
        correction = reconcile_seats(found[0], snapshot.quantity, org.member_count)
        if correction.over_limit:
            logger.error(
                "organization has more members than its plan has seats",
                extra={
                    "org_id": org.org_id,
                    "members": correction.members,
                    "seats": correction.target,
                },
            )
        if correction.needed:
            change = (
                f"reconcile-{day.isoformat()}-{correction.billed}-{correction.target}"
            )
            self.provider.set_seat_quantity(
                snapshot.id,
                correction.target,
                proration_behavior=self.config.proration_behavior,
                idempotency_key=seat_change_key(org.org_id, change),
            )
            logger.info(
                "organization seats reconciled",
                extra={
                    "org_id": org.org_id,
                    "billed": correction.billed,
                    "seats": correction.target,
                },
            )
        return correction
