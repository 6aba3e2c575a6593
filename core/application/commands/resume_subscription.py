from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import SubscriptionWriter, live_subscription
from core.application.ports import Clock, PaymentProvider
from core.domain.billing import Subscription
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class ResumeSubscription:
    """Takes back a cancellation at period end, before the period ends: the
    subscription renews as before. ``NoSubscription`` once it has ended (buy again
    through checkout). Asking twice is harmless."""

    provider: PaymentProvider
    writer: SubscriptionWriter
    clock: Clock

    def execute(self, user: User) -> Subscription:
        subscription = live_subscription(user)
        snapshot = self.provider.set_cancel_at_period_end(
            subscription.id,
            False,
            idempotency_key=f"resume-{subscription.id}-{user.version}",
        )
        stored = self.writer.store(user, snapshot, self.clock.now())
        return stored.billing.subscription or subscription
