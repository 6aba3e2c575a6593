"""Plans, subscriptions and the entitlements they give: the billing domain.

Plans are data (read from configuration by the presentation layer); this module only
says what a plan is and which plan is in force for a user at a given moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from core.domain.errors import DomainError

# The features the code itself gates (plans name them in configuration).
USERS_EXPORT = "users_export"


class Interval(StrEnum):
    MONTH = "month"
    YEAR = "year"


class SubscriptionStatus(StrEnum):
    """Stripe's subscription statuses, as Stripe spells them."""

    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    PAUSED = "paused"


# A subscription in one of these will never change again: nothing to reconcile.
TERMINAL_STATUSES = frozenset(
    {SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED}
)
# Paid for, or being paid for: the plan's entitlements hold.
PAID_STATUSES = frozenset({SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING})


class InvalidPlanCatalog(DomainError):
    code = "invalid_plan_catalog"


@dataclass(frozen=True, slots=True)
class Price:
    """One Stripe price of a plan: its id, billing interval, currency (lowercase ISO,
    as Stripe writes it) and amount in the currency's smallest unit."""

    id: str
    interval: Interval
    currency: str
    unit_amount: int


@dataclass(frozen=True, slots=True)
class Plan:
    """A tier: what it is called, what it allows and what it costs.

    ``bank_transfer`` marks plans that may also be paid by invoice from the
    customer balance (a bank transfer) instead of by card.
    """

    key: str
    name: str
    features: frozenset[str] = frozenset()
    limits: Mapping[str, int] = field(default_factory=dict)
    prices: tuple[Price, ...] = ()
    bank_transfer: bool = False
    # Days of free trial a new subscription starts with (0: none).
    trial_days: int = 0
    # Sold per seat: the subscription's quantity is the organization's member
    # count, at most ``limits["seats"]`` (which such a plan must have, >= 1).
    per_seat: bool = False

    def __post_init__(self) -> None:
        if self.per_seat and (self.seat_limit is None or self.seat_limit < 1):
            raise InvalidPlanCatalog(
                f"the per-seat plan {self.key!r} needs limits.seats of at least 1"
            )

    @property
    def seat_limit(self) -> int | None:
        """The most members an organization on this plan may have (its
        ``limits.seats``), and so the most seats a per-seat plan bills; None: no
        limit."""
        return self.limits.get("seats")

    @property
    def is_paid(self) -> bool:
        return bool(self.prices)

    def price(self, interval: Interval, currency: str) -> Price | None:
        for price in self.prices:
            if price.interval is interval and price.currency == currency:
                return price
        return None


@dataclass(frozen=True, slots=True)
class PlanCatalog:
    """Every plan, and which one a user without a subscription has."""

    plans: tuple[Plan, ...]
    free_key: str = "free"
    # Prices no longer sold but still paid by subscribers: price id -> (plan key,
    # interval). They keep their plan instead of silently dropping to free.
    legacy: Mapping[str, tuple[str, Interval]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        keys = [plan.key for plan in self.plans]
        if len(set(keys)) != len(keys):
            raise InvalidPlanCatalog("plan keys must be unique")
        if self.free_key not in keys:
            raise InvalidPlanCatalog(f"the free plan {self.free_key!r} is missing")
        if self.get(self.free_key).is_paid:  # type: ignore[union-attr]
            raise InvalidPlanCatalog("the free plan cannot have prices")
        price_ids = [price.id for plan in self.plans for price in plan.prices]
        if len(set(price_ids)) != len(price_ids):
            raise InvalidPlanCatalog("a price id may belong to one plan only")
        for price_id, (plan_key, _) in self.legacy.items():
            if price_id in price_ids:
                raise InvalidPlanCatalog(f"legacy price {price_id!r} is still sold")
            plan = self.get(plan_key)
            if plan is None or not plan.is_paid:
                raise InvalidPlanCatalog(
                    f"legacy price {price_id!r} names no paid plan ({plan_key!r})"
                )

    @property
    def free(self) -> Plan:
        plan = self.get(self.free_key)
        assert plan is not None  # checked at construction
        return plan

    def get(self, key: str) -> Plan | None:
        for plan in self.plans:
            if plan.key == key:
                return plan
        return None

    def by_price(self, price_id: str) -> tuple[Plan, Price] | None:
        for plan in self.plans:
            for price in plan.prices:
                if price.id == price_id:
                    return plan, price
        return None

    def plan_of_price(self, price_id: str) -> tuple[Plan, Interval] | None:
        """The plan a subscribed price gives: a price on sale, else a legacy one."""
        found = self.by_price(price_id)
        if found is not None:
            return found[0], found[1].interval
        legacy = self.legacy.get(price_id)
        if legacy is None:
            return None
        plan = self.get(legacy[0])
        return None if plan is None else (plan, legacy[1])

    def plans_with(self, feature: str) -> list[str]:
        return [plan.key for plan in self.plans if feature in plan.features]


@dataclass(frozen=True, slots=True)
class Subscription:
    """What we know of a user's Stripe subscription.

    ``observed_at`` is when the state was true at Stripe: the creation time of the
    event that wrote it, or the time it was read from Stripe. Older news never
    replaces it. ``past_due_since`` is the first failed payment of the current run
    of failures: the grace period counts from it.
    """

    id: str
    status: SubscriptionStatus
    price_id: str
    plan_key: str
    interval: Interval
    currency: str
    item_id: str
    current_period_end: datetime | None
    cancel_at_period_end: bool
    observed_at: datetime
    trial_end: datetime | None = None
    past_due_since: datetime | None = None
    # Paid by invoice (bank transfer) and its first invoice not paid yet: Stripe
    # calls it ``active`` at once, but no money has arrived, so it grants nothing.
    awaiting_first_payment: bool = False
    # Paid by invoice (bank transfer): granted only to verified accounts.
    paid_by_invoice: bool = False
    # The item's quantity as Stripe last reported it: the seats paid for, on a
    # per-seat plan (1 otherwise).
    quantity: int = 1

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def shown_status(self) -> SubscriptionStatus:
        """The status to show the user: ``incomplete`` while the first invoice of
        a bank-transfer subscription is unpaid, else Stripe's."""
        if self.awaiting_first_payment and self.status in PAID_STATUSES:
            return SubscriptionStatus.INCOMPLETE
        return self.status


@dataclass(frozen=True, slots=True)
class Billing:
    """A user's billing account: the Stripe customer (made on first checkout) and
    the subscription, if any."""

    customer_id: str | None = None
    subscription: Subscription | None = None

    def with_customer(self, customer_id: str) -> Billing:
        return replace(self, customer_id=customer_id)

    def with_subscription(self, subscription: Subscription | None) -> Billing:
        return replace(self, subscription=subscription)


@dataclass(frozen=True, slots=True)
class Entitlements:
    """The plan in force and what it allows, right now."""

    plan: Plan
    # Set while a failed payment is inside its grace period: paid features last
    # until then.
    grace_until: datetime | None = None

    @property
    def features(self) -> frozenset[str]:
        return self.plan.features

    @property
    def limits(self) -> Mapping[str, int]:
        return self.plan.limits

    def allows(self, feature: str) -> bool:
        return feature in self.plan.features


def grace_deadline(subscription: Subscription, grace: timedelta) -> datetime | None:
    if subscription.past_due_since is None:
        return None
    return subscription.past_due_since + grace


def entitlements(
    billing: Billing, catalog: PlanCatalog, now: datetime, grace: timedelta
) -> Entitlements:
    """The plan a user has at ``now``.

    Active or trialing: the subscribed plan, unless it is paid by invoice and the
    first invoice is not paid yet (free until the money arrives). Past due: the
    subscribed plan until the grace deadline (counted from the first failure),
    then free. Anything else (unpaid, canceled, incomplete, expired, paused) and
    no subscription: free. A subscription whose price is in no plan (nor in the
    legacy map) also gives free, rather than guessing.
    """
    subscription = billing.subscription
    if subscription is None:
        return Entitlements(catalog.free)
    plan = catalog.get(subscription.plan_key)
    if plan is None or subscription.awaiting_first_payment:
        return Entitlements(catalog.free)
    if subscription.status in PAID_STATUSES:
        return Entitlements(plan)
    if subscription.status is SubscriptionStatus.PAST_DUE:
        # Without a recorded first failure, grace counts from when the state was
        # seen (never from ``now``, which would make it endless).
        deadline = grace_deadline(subscription, grace) or (
            subscription.observed_at + grace
        )
        if now < deadline:
            return Entitlements(plan, grace_until=deadline)
    return Entitlements(catalog.free)
