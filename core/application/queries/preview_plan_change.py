from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import (
    BillingConfig,
    live_subscription,
    snapshot_of,
    target_price,
)
from core.application.ports import PaymentProvider, ProrationPreview
from core.domain.billing import Interval
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class PreviewPlanChange:
    """What moving to another plan or interval would invoice now, and the
    ``proration_date`` to pass to the change so it charges exactly that. Changes
    nothing. Refuses as ``ChangePlan`` does."""

    provider: PaymentProvider
    config: BillingConfig

    def execute(
        self,
        user: User,
        plan_key: str,
        interval: Interval,
        proration_date: int | None = None,
    ) -> ProrationPreview:
        subscription = live_subscription(user)
        price = target_price(self.config, subscription, plan_key, interval)
        return self.provider.preview_change(
            snapshot_of(subscription, user.billing.customer_id or ""),
            price.id,
            # The preview shows an immediate invoice; with another behaviour the
            # amount is what the next invoice will carry for the change.
            proration_behavior="always_invoice",
            proration_date=proration_date,
        )
