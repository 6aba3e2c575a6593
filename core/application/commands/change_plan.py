from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import (
    BillingConfig,
    SubscriptionView,
    SubscriptionWriter,
    live_subscription,
)
from core.application.plan_change import ChangeTarget, PlanChanger
from core.application.ports import Clock, CursorCodec, PaymentProvider
from core.domain.billing import Interval
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class ChangePlan:
    """Moves the user's live subscription to another plan or interval, prorated as
    the settings say (by default invoiced at once). Given the ``proration_token`` a
    preview returned (signed, bound to the user, subscription and price, good for
    a few minutes), the change charges exactly what the preview showed; without
    one it is prorated at the server's now. A forged, stale or foreign token is
    ``InvalidProrationToken`` and nothing changes. A change that invoices at
    once applies only if that invoice is paid: otherwise ``PaymentFailed``, with
    the invoice's page to pay it, and the user stays on the plan they paid for.
    ``NoSubscription`` without a live subscription; ``AlreadySubscribed`` for the
    price the user already pays. Stores what Stripe answers, and answers it with
    what the new plan allows."""

    provider: PaymentProvider
    writer: SubscriptionWriter
    config: BillingConfig
    clock: Clock
    cursors: CursorCodec

    def execute(
        self,
        user: User,
        plan_key: str,
        interval: Interval,
        proration_token: str | None = None,
    ) -> SubscriptionView:
        subscription = live_subscription(user)
        customer_id = user.billing.customer_id or ""
        target = ChangeTarget(user.id, customer_id, subscription, plan_key, interval)
        changer = PlanChanger(self.provider, self.config, self.cursors, self.clock)
        snapshot = changer.apply(target, proration_token, str(user.version))
        now = self.clock.now()
        stored = self.writer.store(user, snapshot, now)
        return self.config.view_after(user, stored, subscription, now)
