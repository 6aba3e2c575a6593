from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from core.application.billing import BillingConfig, Customers
from core.application.errors import (
    AlreadySubscribed,
    BankTransferUnavailable,
    CustomerMissing,
    EmailNotVerified,
    PriceUnavailable,
    SubscriptionExists,
    UnknownPlan,
)
from core.application.ports import Clock, IdGenerator, PaymentProvider
from core.domain.billing import (
    Interval,
    Plan,
    Price,
    Subscription,
    SubscriptionStatus,
)
from core.domain.user import User

logger = logging.getLogger("strata.billing")


class PaymentMethod(StrEnum):
    CARD = "card"
    # Paid by invoice from the customer balance; only plans marked for it.
    BANK_TRANSFER = "bank_transfer"


@dataclass(frozen=True, slots=True)
class StartCheckout:
    """A logged-in user starts buying a plan; returns the URL to send them to.

    By card: a Stripe Checkout Session in subscription mode. By bank transfer (only
    plans marked for it): a subscription invoiced to the customer balance, and the
    URL of its first invoice. The Stripe customer is made on first use. Refuses an
    unknown or free plan (``UnknownPlan``), a price the plan does not have
    (``PriceUnavailable``), the plan the user already has (``AlreadySubscribed``)
    and any second live subscription (``SubscriptionExists``: change it instead).
    Nothing changes for the user until Stripe's webhook says the purchase is done.
    An account whose email is not verified cannot buy (``EmailNotVerified``).
    """

    customers: Customers
    provider: PaymentProvider
    config: BillingConfig
    clock: Clock
    ids: IdGenerator

    def execute(
        self,
        user: User,
        plan_key: str,
        interval: Interval,
        currency: str,
        method: PaymentMethod = PaymentMethod.CARD,
    ) -> str:
        if not user.email_verified:
            # Who pays must be reachable, and the purge removes the unverified.
            raise EmailNotVerified()
        plan = self.config.catalog.get(plan_key)
        if plan is None or not plan.is_paid:
            raise UnknownPlan(f"no paid plan named {plan_key!r}")
        price = plan.price(interval, currency)
        if price is None:
            raise PriceUnavailable(
                f"{plan.key!r} is not sold per {interval.value} in {currency!r}"
            )
        if method is PaymentMethod.BANK_TRANSFER and not plan.bank_transfer:
            raise BankTransferUnavailable(
                f"{plan.key!r} cannot be paid by bank transfer"
            )
        in_force = self.config.entitlements(user, self.clock.now()).plan
        if in_force.key == plan.key:
            raise AlreadySubscribed(f"you already have {plan.key!r}")
        subscription = user.billing.subscription
        if subscription is not None and subscription.status not in (
            SubscriptionStatus.INCOMPLETE,
            SubscriptionStatus.INCOMPLETE_EXPIRED,
            SubscriptionStatus.CANCELED,
        ):
            raise SubscriptionExists()
        user, customer_id = self.customers.ensure(user)
        try:
            return self._start(user, customer_id, plan, price, method, subscription)
        except CustomerMissing:
            # Deleted at Stripe (the dashboard, say): a new customer, not a 409
            # for ever.
            logger.warning(
                "stored stripe customer is gone: making a new one",
                extra={"user_id": user.id},
            )
            user, customer_id = self.customers.replace(user, customer_id)
            return self._start(user, customer_id, plan, price, method, subscription)

    def _start(
        self,
        user: User,
        customer_id: str,
        plan: Plan,
        price: Price,
        method: PaymentMethod,
        subscription: Subscription | None,
    ) -> str:
        # A fresh key per purchase attempt: the client's retries of this one call
        # reuse it, a later attempt is a new purchase.
        key = f"checkout-{user.id}-{self.ids.new_id()}"
        if method is PaymentMethod.BANK_TRANSFER:
            return self.provider.create_invoiced_subscription(
                customer_id=customer_id,
                price_id=price.id,
                user_id=user.id,
                days_until_due=self.config.invoice_days_until_due,
                idempotency_key=key,
            )
        return self.provider.create_checkout(
            customer_id=customer_id,
            price_id=price.id,
            user_id=user.id,
            success_url=self.config.success_url,
            cancel_url=self.config.cancel_url,
            idempotency_key=key,
            # One trial per user: not again after a subscription has ended.
            trial_days=plan.trial_days if subscription is None else 0,
        )
