from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import (
    BillingConfig,
    SubscriptionView,
    SubscriptionWriter,
    live_subscription,
    snapshot_of,
    target_price,
)
from core.application.ports import Clock, PaymentProvider
from core.domain.billing import Interval
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class ChangePlan:
    """Moves the user's live subscription to another plan or interval, prorated as
    the settings say (by default invoiced at once). Given the ``proration_date`` a
    preview returned, the change charges exactly what the preview showed.
    ``NoSubscription`` without a live subscription; ``AlreadySubscribed`` for the
    price the user already pays. Stores what Stripe answers, and answers it with
    what the new plan allows."""

    provider: PaymentProvider
    writer: SubscriptionWriter
    config: BillingConfig
    clock: Clock

    def execute(
        self,
        user: User,
        plan_key: str,
        interval: Interval,
        proration_date: int | None = None,
    ) -> SubscriptionView:
        subscription = live_subscription(user)
        price = target_price(self.config, subscription, plan_key, interval)
        snapshot = self.provider.change_price(
            snapshot_of(subscription, user.billing.customer_id or ""),
            price.id,
            proration_behavior=self.config.proration_behavior,
            proration_date=proration_date,
            # Retrying the same change of the same stored state must not charge
            # twice; the version makes a later change to the same price a new one.
            idempotency_key=(
                f"change-{subscription.id}-{price.id}-{proration_date or 0}-"
                f"{user.version}"
            ),
        )
        now = self.clock.now()
        stored = self.writer.store(user, snapshot, now)
        return self.config.view_after(user, stored, subscription, now)
