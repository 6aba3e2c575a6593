from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from core.application.billing import BillingConfig
from core.application.org_billing import (
    OrgBillingStore,
    OrgBillingWriter,
    OrgSubscriptionView,
    SeatSync,
    load_billed_org,
    org_change_target,
    org_view,
    seats_to_bill,
)
from core.application.org_ports import OrganizationStore
from core.application.organizations import AuditTrail
from core.application.plan_change import PlanChanger
from core.application.ports import Clock, CursorCodec, PaymentProvider
from core.domain.billing import Interval
from core.domain.organization import AuditAction, Organization
from core.domain.user import User

logger = logging.getLogger("strata.billing")

# How long a change's seat hold binds joins. Longer than any invocation that may
# still be waiting on Stripe for it (the Stripe client ends every call, retries
# included, within its budget of seconds, and the function's timeout is under a
# minute: tests/unit/adapters/test_stripe_client.py holds this to ten times it),
# with room for clocks that differ between functions, so a hold never lapses
# while its change can still be applied; short, so that a hold its change never
# released (the function crashed or timed out between the hold and the store)
# refuses joins beyond the new plan's seats for minutes, not for ever.
SEAT_HOLD = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ChangeOrgPlan:
    """An organization's admin or owner moves its live subscription to another
    plan or interval, prorated as a person's change is (``PlanChanger``: the
    same proration token, refusals and unpaid-invoice rule; the token is bound to
    the organization).

    The quantity goes with the price in one Stripe update: the member count on a
    per-seat plan, one unit on a flat plan, and ``SeatsExhausted`` before Stripe
    is asked when the organization has more members than the new plan has seats.

    A plan with fewer seats than the limit in force holds the organization to
    them before Stripe is asked (``OrgBillingStore.hold_seats``, conditional on
    the members fitting, for ``SEAT_HOLD``): a join checks the hold as well as
    the limit in its own transaction, so one accepted while the change is on its
    way to Stripe is ``SeatsExhausted`` beyond the new plan's seats, even after a
    webhook stored meanwhile (an ``invoice.paid`` of the current state) wrote the
    still-old plan's limit, since webhooks never touch the hold; a join that
    landed after the organization was read and filled the new plan makes the
    change ``SeatsExhausted``, Stripe never asked. The write that stores
    Stripe's answer ends the hold; when Stripe does not apply the change (unpaid,
    refused, unreachable, any error) the hold is released; a hold neither ended
    (a crash in between) lapses after ``SEAT_HOLD``. A plan with as many seats or
    more needs no hold: its limit comes with Stripe's answer.

    The idempotency key names the organization's version (joins and removals move
    it), so a retried request charges once. The organization's ``plan_key`` and
    ``seat_limit`` follow the plan of what Stripe answers (``OrgBillingWriter``):
    an unpaid change leaves both as they were. The change's audit entry
    (``billing.plan_changed``: from and to which plan and interval, the quantity
    billed) is written in the transaction that stores it; an unpaid one writes
    none (nothing changed).

    A member who joined or left while the change was on its way to Stripe left
    the quantity sent behind the member count: the stored organization says so,
    and ``SeatSync`` then sets the count, as after any membership change."""

    orgs: OrganizationStore
    provider: PaymentProvider
    writer: OrgBillingWriter
    config: BillingConfig
    clock: Clock
    cursors: CursorCodec
    trail: AuditTrail
    seats: SeatSync
    org_billing: OrgBillingStore

    def execute(
        self,
        actor: User,
        org_id: str,
        plan_key: str,
        interval: Interval,
        proration_token: str | None = None,
    ) -> OrgSubscriptionView:
        org = load_billed_org(self.orgs, org_id, actor)
        target = org_change_target(org, plan_key, interval)
        changer = PlanChanger(self.provider, self.config, self.cursors, self.clock)
        changer.price(target)  # an unknown or unsold plan is refused first
        quantity = seats_to_bill(self.config.catalog, org, plan_key)
        held = self._hold_seats(org, plan_key)
        try:
            snapshot = changer.apply(
                target, proration_token, f"org-{org.version}", quantity=quantity
            )
        except Exception:
            if held is not None:
                self._release_hold(org, held)
            raise
        subscription = target.subscription
        details = {
            "from_plan": subscription.plan_key,
            "from_interval": subscription.interval.value,
            "plan": plan_key,
            "interval": interval.value,
            "quantity": str(quantity),
        }
        audit = self.trail.entry(
            org.id, actor, AuditAction.BILLING_PLAN_CHANGED, subscription.id, details
        )
        now = self.clock.now()
        stored = self.writer.store(org, snapshot, now, audit, hold=held)
        if stored.seats_used != org.seats_used:
            self.seats.after_change(stored, audit.id)
        return org_view(self.config, stored, now)

    def _hold_seats(self, org: Organization, plan_key: str) -> int | None:
        """The seats held before Stripe is asked, if ``plan_key`` has fewer
        seats than ``org``'s limit (or ``org`` has none); ``None`` otherwise."""
        plan = self.config.catalog.get(plan_key)
        limit = None if plan is None else plan.seat_limit
        if limit is None or (org.seat_limit is not None and limit >= org.seat_limit):
            return None
        until = self.clock.now() + SEAT_HOLD
        self.org_billing.hold_seats(org.id, plan_key, limit, until)
        return limit

    def _release_hold(self, org: Organization, held: int) -> None:
        try:
            self.org_billing.release_seat_hold(org.id, held)
        except Exception:
            # The change's own error is the answer. The hold lapses by itself
            # (``SEAT_HOLD``): too few seats for a while, never too many.
            logger.exception(
                "the seat hold of a failed plan change stays until it lapses",
                extra={"org_id": org.id, "seat_hold": held},
            )
