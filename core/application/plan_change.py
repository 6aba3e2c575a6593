"""Moving a subscription to another plan or interval at Stripe: what a person's
change and an organization's share (the price the change moves to, the signed
proration token of a preview, the idempotency key, an unpaid change refused).

Whose subscription it is (a user's, an organization's), who may change it and
where the answer is stored stay with each use case: this module reads nothing
and stores nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import (
    BillingConfig,
    ProrationTokens,
    snapshot_of,
    target_price,
)
from core.application.errors import PaymentFailed
from core.application.ports import (
    Clock,
    CursorCodec,
    PaymentProvider,
    SubscriptionSnapshot,
)
from core.domain.billing import Interval, Price, Subscription


@dataclass(frozen=True, slots=True)
class PlanChangeQuote:
    """What a change would invoice now, and the signed ``proration_token`` that
    makes the change charge exactly that (until it expires)."""

    amount_due: int
    currency: str
    proration_token: str


@dataclass(frozen=True, slots=True)
class ChangeTarget:
    """One subscription's change: whose it is (``owner``, the id a proration
    token is bound to: a user's, or ``org:<id>`` for an organization), its Stripe
    customer, the stored subscription, and where it moves."""

    owner: str
    customer_id: str
    subscription: Subscription
    plan_key: str
    interval: Interval


@dataclass(frozen=True, slots=True)
class PlanChanger:
    """Previews and applies a change of price at Stripe, prorated as the settings
    say. ``UnknownPlan``, ``PriceUnavailable`` and ``AlreadySubscribed`` come from
    ``target_price`` before Stripe is asked."""

    provider: PaymentProvider
    config: BillingConfig
    cursors: CursorCodec
    clock: Clock

    def price(self, target: ChangeTarget) -> Price:
        return target_price(
            self.config, target.subscription, target.plan_key, target.interval
        )

    def quote(
        self, target: ChangeTarget, quantity: int | None = None
    ) -> PlanChangeQuote:
        """What the change would invoice now (prorated at the server's time), and
        a token to send back so the change charges exactly that."""
        price = self.price(target)
        subscription = target.subscription
        preview = self.provider.preview_change(
            snapshot_of(subscription, target.customer_id),
            price.id,
            # The preview shows an immediate invoice; with another behaviour the
            # amount is what the next invoice will carry for the change.
            proration_behavior="always_invoice",
            # Now, as the server (through the provider) sees it: never the client.
            proration_date=None,
            quantity=quantity,
        )
        token = self._tokens.issue(
            target.owner,
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

    def apply(
        self,
        target: ChangeTarget,
        proration_token: str | None,
        version: str,
        quantity: int | None = None,
    ) -> SubscriptionSnapshot:
        """Make the change; what Stripe answers. ``version`` names the stored
        state the change was decided on: with the subscription, the price and
        the proration date it makes the idempotency key, so retrying the same
        change of the same state never charges twice and a later change to the
        same price is a new one. ``InvalidProrationToken`` for a forged, stale or
        foreign token (nothing changes); ``PaymentFailed``, with the invoice's
        page, when the change's invoice is not paid (Stripe applied nothing)."""
        price = self.price(target)
        subscription = target.subscription
        proration_date = None
        if proration_token is not None:
            proration_date = self._tokens.read(
                proration_token,
                target.owner,
                subscription.id,
                price.id,
                self.clock.now(),
            )
        snapshot = self.provider.change_price(
            snapshot_of(subscription, target.customer_id),
            price.id,
            proration_behavior=self.config.proration_behavior,
            proration_date=proration_date,
            idempotency_key=(
                f"change-{subscription.id}-{price.id}-{proration_date or 0}-{version}"
            ),
            quantity=quantity,
        )
        if snapshot.pending_update:
            # Not paid: Stripe applied nothing (``pending_if_incomplete``) and
            # neither do we. The owner keeps the plan they paid for.
            raise PaymentFailed(
                snapshot.payment_url
                or self.provider.create_portal(
                    target.customer_id, self.config.portal_return_url
                )
            )
        return snapshot

    @property
    def _tokens(self) -> ProrationTokens:
        return ProrationTokens(self.cursors, self.config.proration_token_ttl)
