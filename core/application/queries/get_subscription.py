from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import BillingConfig, SubscriptionView
from core.application.ports import Clock
from core.domain.user import User

__all__ = ["GetSubscription", "SubscriptionView"]


@dataclass(frozen=True, slots=True)
class GetSubscription:
    """The user's subscription as last stored (webhooks keep it current; the daily
    reconciliation repairs what a lost one missed) and the plan in force now. Reads
    nothing: authentication already loaded the user."""

    config: BillingConfig
    clock: Clock

    def execute(self, user: User) -> SubscriptionView:
        return self.config.view(user, self.clock.now())
