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
class ResumeSubscription:
    """Takes back a cancellation at period end, before the period ends: the
    subscription renews as before. ``NoSubscription`` once it has ended (buy again
    through checkout). Asking twice is harmless. Answers the subscription as
    stored, with what the plan in force allows."""

    provider: PaymentProvider
    writer: SubscriptionWriter
    clock: Clock
    config: BillingConfig

    def execute(self, user: User) -> SubscriptionView:
        subscription = live_subscription(user)
        snapshot = self.provider.set_cancel_at_period_end(
            subscription.id,
            False,
            idempotency_key=f"resume-{subscription.id}-{user.version}",
        )
        now = self.clock.now()
        stored = self.writer.store(user, snapshot, now)
        return self.config.view_after(user, stored, subscription, now)
