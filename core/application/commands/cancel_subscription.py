from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import (
    BillingConfig,
    SubscriptionView,
    SubscriptionWriter,
    live_subscription,
)
from core.application.ports import Clock, PaymentProvider
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class CancelSubscription:
    """Cancels the user's subscription at the end of the period already paid for:
    the plan stays in force until then. ``NoSubscription`` without a live one.
    Asking twice is harmless. Answers the subscription as
    stored, with what the plan in force allows."""

    provider: PaymentProvider
    writer: SubscriptionWriter
    clock: Clock
    config: BillingConfig

    def execute(self, user: User) -> SubscriptionView:
        subscription = live_subscription(user)
        snapshot = self.provider.set_cancel_at_period_end(
            subscription.id,
            True,
            idempotency_key=f"cancel-{subscription.id}-{user.version}",
        )
        now = self.clock.now()
        stored = self.writer.store(user, snapshot, now)
        return self.config.view_after(user, stored, subscription, now)
