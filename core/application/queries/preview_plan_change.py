from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import BillingConfig, live_subscription
from core.application.plan_change import ChangeTarget, PlanChangeQuote, PlanChanger
from core.application.ports import Clock, CursorCodec, PaymentProvider
from core.domain.billing import Interval
from core.domain.user import User

__all__ = ["PlanChangeQuote", "PreviewPlanChange"]


@dataclass(frozen=True, slots=True)
class PreviewPlanChange:
    """What moving to another plan or interval would invoice now (prorated at the
    server's time), and a signed token to pass to the change so it charges exactly
    that. Changes nothing. Refuses as ``ChangePlan`` does."""

    provider: PaymentProvider
    config: BillingConfig
    cursors: CursorCodec
    clock: Clock

    def execute(self, user: User, plan_key: str, interval: Interval) -> PlanChangeQuote:
        subscription = live_subscription(user)
        customer_id = user.billing.customer_id or ""
        target = ChangeTarget(user.id, customer_id, subscription, plan_key, interval)
        changer = PlanChanger(self.provider, self.config, self.cursors, self.clock)
        return changer.quote(target)
