from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import SubscriptionWriter, live_subscription
from core.application.ports import Clock, PaymentProvider
from core.domain.billing import Subscription
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class CancelSubscription:
    """Cancels the user's subscription at the end of the period already paid for:
    the plan stays in force until then. ``NoSubscription`` without a live one.
    Asking twice is harmless."""

    provider: PaymentProvider
    writer: SubscriptionWriter
    clock: Clock

    def execute(self, user: User) -> Subscription:
        subscription = live_subscription(user)
        snapshot = self.provider.set_cancel_at_period_end(
            subscription.id,
            True,
            idempotency_key=f"cancel-{subscription.id}-{user.version}",
        )
        stored = self.writer.store(user, snapshot, self.clock.now())
        return stored.billing.subscription or subscription
