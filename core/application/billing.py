"""What the billing use cases share: their settings, the customer every paid user
gets, and the one rule for folding what Stripe says into the stored subscription.

Commands and queries do not import each other; they all import this.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.application.errors import (
    AlreadySubscribed,
    ConcurrentUpdate,
    InvalidCursor,
    InvalidProrationToken,
    NoSubscription,
    PlanRequired,
    PriceUnavailable,
    UnknownPlan,
)
from core.application.ports import (
    BillingStore,
    CursorCodec,
    PaymentProvider,
    SubscriptionSnapshot,
    UserRepository,
)
from core.domain.billing import (
    Entitlements,
    Interval,
    PlanCatalog,
    Price,
    Subscription,
    SubscriptionStatus,
    entitlements,
)
from core.domain.user import User

logger = logging.getLogger("strata.billing")

# Statuses in which a payment is owed: the grace period runs from the first.
_OWING = frozenset({SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID})
# A subscription that never got going: a new one may take its place.
_NOT_STARTED = frozenset({SubscriptionStatus.INCOMPLETE})
# Started and not ended: one of these per user at most.
_LIVE = frozenset(
    {
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.TRIALING,
        SubscriptionStatus.PAST_DUE,
        SubscriptionStatus.UNPAID,
        SubscriptionStatus.PAUSED,
    }
)
# Tries of a read-modify-write against the same user before giving up.
ATTEMPTS = 3

# The event types Strata acts on; any other is acknowledged and ignored.
SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "customer.subscription.trial_will_end",
    }
)
INVOICE_EVENTS = frozenset(
    {
        "invoice.paid",
        "invoice.payment_failed",
        "invoice.payment_action_required",
        # Never to be paid: the subscription is re-read, Stripe's status decides.
        "invoice.voided",
        "invoice.marked_uncollectible",
    }
)
DISPUTE_CREATED = "charge.dispute.created"
DISPUTE_CLOSED = "charge.dispute.closed"
CHARGE_REFUNDED = "charge.refunded"
MONEY_BACK_EVENTS = frozenset({DISPUTE_CREATED, DISPUTE_CLOSED, CHARGE_REFUNDED})
CHECKOUT_COMPLETED = "checkout.session.completed"
CUSTOMER_DELETED = "customer.deleted"
HANDLED_EVENTS = (
    SUBSCRIPTION_EVENTS
    | INVOICE_EVENTS
    | MONEY_BACK_EVENTS
    | {CHECKOUT_COMPLETED, CUSTOMER_DELETED}
)


@dataclass(frozen=True, slots=True)
class BillingConfig:
    """The billing settings the use cases need, in the application's words."""

    catalog: PlanCatalog
    grace: timedelta
    proration_behavior: str
    invoice_days_until_due: int
    event_keep: timedelta
    # Where Stripe sends the user back to: the front end.
    success_url: str
    cancel_url: str
    portal_return_url: str
    # How long a preview's proration token may be sent back with the change.
    proration_token_ttl: timedelta = timedelta(minutes=5)

    def entitlements(self, user: User, now: datetime) -> Entitlements:
        subscription = user.billing.subscription
        if (
            subscription is not None
            and subscription.paid_by_invoice
            and not user.email_verified
        ):
            # A bank transfer's plan goes to verified accounts only.
            return Entitlements(self.catalog.free)
        return entitlements(user.billing, self.catalog, now, self.grace)

    def view(self, user: User, now: datetime) -> SubscriptionView:
        return SubscriptionView(user.billing.subscription, self.entitlements(user, now))

    def view_after(
        self, user: User, changed: User, before: Subscription, now: datetime
    ) -> SubscriptionView:
        """What a command that changed ``user``'s subscription answers: the one
        stored (``changed``), or ``before`` if the store kept none."""
        subscription = changed.billing.subscription or before
        return self.view(
            user.with_billing(user.billing.with_subscription(subscription)), now
        )


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """A user's subscription and what the plan in force allows."""

    subscription: Subscription | None
    entitlements: Entitlements


def parse_status(value: str) -> SubscriptionStatus:
    try:
        return SubscriptionStatus(value)
    except ValueError:
        # A status Stripe adds later: grant nothing until someone maps it.
        return SubscriptionStatus.INCOMPLETE


def subscription_from(
    snapshot: SubscriptionSnapshot,
    catalog: PlanCatalog,
    observed_at: datetime,
    previous: Subscription | None,
) -> Subscription:
    """The stored form of what Stripe says, keeping the start of a run of failed
    payments from ``previous`` (the grace period counts from the first)."""
    found = catalog.plan_of_price(snapshot.price_id)
    plan_key, interval = (found[0].key, found[1]) if found else ("", Interval.MONTH)
    if found is None:
        # A paying subscriber whose price is in no plan (removed from the plans
        # file without a ``legacy`` entry) gets Free: someone must look now.
        logger.error(
            "subscription price is in no plan: the user gets free; add it to the "
            "plans file's legacy map",
            extra={"subscription_id": snapshot.id, "price_id": snapshot.price_id},
        )
    status = parse_status(snapshot.status)
    past_due_since = None
    if status in _OWING:
        same = previous is not None and previous.id == snapshot.id
        past_due_since = (
            previous.past_due_since
            if same and previous is not None and previous.past_due_since
            else observed_at
        )
    # Paid by invoice: nothing is granted until an invoice of it is paid; once
    # one was, it stays granted (a later unpaid renewal is ``past_due``'s job).
    awaiting = (
        snapshot.collection_method == "send_invoice"
        and not snapshot.latest_invoice_paid
        and not (
            previous is not None
            and previous.id == snapshot.id
            and not previous.awaiting_first_payment
        )
    )
    return Subscription(
        id=snapshot.id,
        status=status,
        price_id=snapshot.price_id,
        plan_key=plan_key,
        interval=interval,
        currency=snapshot.currency,
        item_id=snapshot.item_id,
        current_period_end=snapshot.current_period_end,
        cancel_at_period_end=snapshot.cancel_at_period_end,
        observed_at=observed_at,
        trial_end=snapshot.trial_end,
        past_due_since=past_due_since,
        awaiting_first_payment=awaiting,
        paid_by_invoice=snapshot.collection_method == "send_invoice",
        quantity=snapshot.quantity,
    )


def may_replace(stored: Subscription | None, incoming: Subscription) -> bool:
    """Whether news about ``incoming`` may overwrite ``stored``.

    Only newer news, always (``observed_at`` later; a re-read from Stripe is
    stamped with the time it was made). About another subscription, it takes the
    place of one that has ended or never started, and of a live one only if it is
    live itself: a late "canceled" about an old subscription never ends a new one.
    """
    if stored is None:
        return True
    if incoming.observed_at <= stored.observed_at:
        return False
    if stored.id == incoming.id or stored.is_terminal:
        return True
    if stored.status in _NOT_STARTED:
        return True
    return not incoming.is_terminal


def is_duplicate(stored: Subscription | None, incoming: Subscription) -> bool:
    """Whether ``incoming`` is a second live subscription beside the stored live
    one: checkout refuses a user who has one, so only a race (two checkouts paid)
    or a subscription made outside Strata gets here."""
    if stored is None or stored.id == incoming.id:
        return False
    live = stored.status in _LIVE
    return live and incoming.status in _LIVE | _NOT_STARTED


def with_subscription(user: User, subscription: Subscription) -> User:
    return user.with_billing(user.billing.with_subscription(subscription))


def live_subscription(user: User) -> Subscription:
    """The user's subscription if it can still be changed, else ``NoSubscription``."""
    subscription = user.billing.subscription
    if subscription is None or subscription.is_terminal:
        raise NoSubscription()
    return subscription


def snapshot_of(subscription: Subscription, customer_id: str) -> SubscriptionSnapshot:
    """What the provider needs to address a stored subscription."""
    return SubscriptionSnapshot(
        id=subscription.id,
        customer_id=customer_id,
        status=subscription.status.value,
        price_id=subscription.price_id,
        item_id=subscription.item_id,
        currency=subscription.currency,
        current_period_end=subscription.current_period_end,
        cancel_at_period_end=subscription.cancel_at_period_end,
        trial_end=subscription.trial_end,
    )


@dataclass(frozen=True, slots=True)
class SubscriptionWriter:
    """Stores what Stripe answered to one of our own writes, re-reading the user
    when something else changed it meanwhile (a webhook, usually)."""

    users: UserRepository
    catalog: PlanCatalog

    def store(
        self, user: User, snapshot: SubscriptionSnapshot, observed_at: datetime
    ) -> User:
        current = user
        for _ in range(ATTEMPTS):
            previous = current.billing.subscription
            incoming = subscription_from(snapshot, self.catalog, observed_at, previous)
            if not may_replace(previous, incoming):
                return current
            try:
                return self.users.save(with_subscription(current, incoming))
            except ConcurrentUpdate:
                reloaded = self.users.get(current.id)
                if reloaded is None:
                    return current
                current = reloaded
        raise ConcurrentUpdate()


@dataclass(frozen=True, slots=True)
class Customers:
    """Every user who pays has exactly one Stripe customer, made on first use.

    Two requests at once both ask Stripe with the same idempotency key (made from
    the user id), so Stripe makes one customer and answers both with it; the
    conditional write then stores it once.
    """

    users: UserRepository
    store: BillingStore
    provider: PaymentProvider

    def ensure(self, user: User) -> tuple[User, str]:
        if user.billing.customer_id:
            return user, user.billing.customer_id
        customer_id = self.provider.create_customer(
            user.id, user.email.value, idempotency_key=f"customer-{user.id}"
        )
        return self._attach(user, customer_id, replacing=None)

    def replace(self, user: User, missing_customer_id: str) -> tuple[User, str]:
        """A new customer in place of one Stripe no longer has (deleted): made
        under a key naming the one it replaces (the first key would replay the
        deleted customer), and stored on the user."""
        customer_id = self.provider.create_customer(
            user.id,
            user.email.value,
            idempotency_key=f"customer-{user.id}-after-{missing_customer_id}",
        )
        return self._attach(user, customer_id, replacing=missing_customer_id)

    def _attach(
        self, user: User, customer_id: str, replacing: str | None
    ) -> tuple[User, str]:
        """Store ``customer_id`` on the user in place of ``replacing`` (``None``: in
        place of no customer), reloading after a concurrent write; a customer some
        other request stored meanwhile stands instead."""
        current = user
        for _ in range(ATTEMPTS):
            stored = current.billing.customer_id
            if stored is not None and stored != replacing:
                return current, stored
            try:
                return self.store.attach_customer(current, customer_id), customer_id
            except ConcurrentUpdate:
                reloaded = self.users.get(current.id)
                if reloaded is None:
                    raise
                current = reloaded
        raise ConcurrentUpdate()


def target_price(
    config: BillingConfig, subscription: Subscription, plan_key: str, interval: Interval
) -> Price:
    """The price a change moves to: same currency (Stripe cannot change a
    subscription's currency), the asked plan and interval."""
    plan = config.catalog.get(plan_key)
    if plan is None or not plan.is_paid:
        raise UnknownPlan(f"no paid plan named {plan_key!r}")
    price = plan.price(interval, subscription.currency)
    if price is None:
        raise PriceUnavailable(
            f"{plan.key!r} is not sold per {interval.value} in "
            f"{subscription.currency!r}"
        )
    if price.id == subscription.price_id:
        raise AlreadySubscribed(f"you already have {plan.key!r} per {interval.value}")
    return price


def require_feature(
    config: BillingConfig, user: User, feature: str, now: datetime
) -> None:
    """``PlanRequired``, naming the plans that have ``feature``, unless the plan in
    force for ``user`` at ``now`` includes it."""
    if not config.entitlements(user, now).allows(feature):
        raise PlanRequired(feature, config.catalog.plans_with(feature))


# A token issued this far in the future (clock skew between Lambdas) is still ours.
_TOKEN_SKEW = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class ProrationTokens:
    """The proration date a preview quoted, signed by the server and sent back by
    the client with the change: the client never chooses a date that moves money.

    A token is bound (through the codec's scope) to the user, the subscription and
    the target price, and carries the proration date and its issue time; it is
    good for ``ttl``. Anything else is ``InvalidProrationToken``.
    """

    codec: CursorCodec
    ttl: timedelta

    @staticmethod
    def _scope(user_id: str, subscription_id: str, price_id: str) -> str:
        return f"proration\0{user_id}\0{subscription_id}\0{price_id}"

    def issue(
        self,
        user_id: str,
        subscription_id: str,
        price_id: str,
        proration_date: int,
        now: datetime,
    ) -> str:
        position = {"at": str(proration_date), "iat": str(int(now.timestamp()))}
        return self.codec.encode(
            position, self._scope(user_id, subscription_id, price_id)
        )

    def read(
        self,
        token: str,
        user_id: str,
        subscription_id: str,
        price_id: str,
        now: datetime,
    ) -> int:
        """The proration date ``token`` carries, if it is authentic, fresh and
        issued for exactly this user, subscription and price."""
        try:
            position = self.codec.decode(
                token, self._scope(user_id, subscription_id, price_id)
            )
            proration_date = int(position["at"])
            issued = int(position["iat"])
        except (InvalidCursor, KeyError, ValueError):
            raise InvalidProrationToken() from None
        moment = int(now.timestamp())
        if not (
            moment - self.ttl.total_seconds()
            <= issued
            <= moment + _TOKEN_SKEW.total_seconds()
        ):
            raise InvalidProrationToken()
        return proration_date
