from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import (
    BillingConfig,
    ProrationTokens,
    live_subscription,
    snapshot_of,
    target_price,
)
from core.application.ports import Clock, CursorCodec, PaymentProvider
from core.domain.billing import Interval
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class PlanChangeQuote:
    """What a change would invoice now, and the signed ``proration_token`` that
    makes the change charge exactly that (until it expires)."""

    amount_due: int
    currency: str
    proration_token: str


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
        price = target_price(self.config, subscription, plan_key, interval)
        preview = self.provider.preview_change(
            snapshot_of(subscription, user.billing.customer_id or ""),
            price.id,
            # The preview shows an immediate invoice; with another behaviour the
            # amount is what the next invoice will carry for the change.
            proration_behavior="always_invoice",
            # Now, as the server (through the provider) sees it: never the client.
            proration_date=None,
        )
        tokens = ProrationTokens(self.cursors, self.config.proration_token_ttl)
        token = tokens.issue(
            user.id,
            subscription.id,
            price.id,
            preview.proration_date,
            self.clock.now(),
        )
        return PlanChangeQuote(
            amount_due=preview.amount_due,
            currency=preview.currency,
            proration_token=token,
        )
