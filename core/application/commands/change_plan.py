from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import (
    BillingConfig,
    ProrationTokens,
    SubscriptionView,
    SubscriptionWriter,
    live_subscription,
    snapshot_of,
    target_price,
)
from core.application.errors import PaymentFailed
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
        price = target_price(self.config, subscription, plan_key, interval)
        proration_date = None
        if proration_token is not None:
            tokens = ProrationTokens(self.cursors, self.config.proration_token_ttl)
            proration_date = tokens.read(
                proration_token, user.id, subscription.id, price.id, self.clock.now()
            )
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
        if snapshot.pending_update:
            # Not paid: Stripe applied nothing (``pending_if_incomplete``) and
            # neither do we. The user keeps the plan they paid for.
            raise PaymentFailed(
                snapshot.payment_url
                or self.provider.create_portal(
                    user.billing.customer_id or "", self.config.portal_return_url
                )
            )
        now = self.clock.now()
        stored = self.writer.store(user, snapshot, now)
        return self.config.view_after(user, stored, subscription, now)
