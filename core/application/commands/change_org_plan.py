from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import BillingConfig
from core.application.org_billing import (
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
from core.domain.organization import AuditAction
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class ChangeOrgPlan:
    """An organization's admin or owner moves its live subscription to another
    plan or interval, prorated as a person's change is (``PlanChanger``: the
    same proration token, refusals and unpaid-invoice rule; the token is bound to
    the organization).

    The quantity goes with the price in one Stripe update: the member count on a
    per-seat plan, one unit on a flat plan, and ``SeatsExhausted`` before Stripe
    is asked when the organization has more members than the new plan has seats.
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
        snapshot = changer.apply(
            target, proration_token, f"org-{org.version}", quantity=quantity
        )
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
        stored = self.writer.store(org, snapshot, now, audit)
        if stored.seats_used != org.seats_used:
            self.seats.after_change(stored, audit.id)
        return org_view(self.config, stored, now)
