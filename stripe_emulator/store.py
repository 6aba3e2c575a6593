"""The emulated account's objects, in the shape the Stripe API returns them, and
the bookkeeping beside them; every resource module reads and writes them here.

Nothing here locks: the emulator's one lock (the HTTP layer holds it) covers every
call into the state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stripe_emulator.clock import Clock
from stripe_emulator.params import Obj, missing, new_id


@dataclass
class SubscriptionClock:
    """Billing bookkeeping for a subscription, beside its Stripe-shaped object:
    periods are ``shift(anchor, interval, cycle * interval_count)``."""

    anchor: int
    cycle: int
    trial_will_end_sent: bool = False
    pending: list[Obj] = field(default_factory=list)  # proration lines not invoiced


DUNNING_ENDS = ("canceled", "unpaid", "past_due")


@dataclass
class Dunning:
    """The account's Subscriptions and emails settings for failed payments: the
    retry schedule (each retry so many days after the attempt before it) and
    what becomes of the subscription once the last retry fails (``canceled``,
    ``unpaid``, or left ``past_due``)."""

    retry_days: tuple[int, ...] = (3, 5, 7)
    final: str = "canceled"


@dataclass
class PendingUpdate:
    """A change made with ``pending_if_incomplete`` whose invoice is not paid: the
    subscription and clock as they will be once ``invoice_id`` is paid."""

    invoice_id: str
    expires_at: int
    subscription: Obj
    clock: SubscriptionClock


def plan_of(price: Obj) -> Obj:
    """The legacy ``plan`` a subscription item still carries beside its price."""
    recurring = price["recurring"]
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": dict(price["metadata"]),
        "meter": None,
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": recurring["usage_type"],
    }


class Store:
    """Every object by id, per kind, plus the prices the account was made with
    (which ``reset`` restores)."""

    def __init__(
        self, base_url: str, prices: Iterable[Mapping[str, Any]], clock: Clock
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.prices: dict[str, Obj] = {}
        self.products: dict[str, Obj] = {}
        self._price_configs = [dict(p) for p in prices]
        self.reset()

    def reset(self) -> None:
        self.customers: dict[str, Obj] = {}
        self.sessions: dict[str, Obj] = {}
        self.portal_sessions: dict[str, Obj] = {}
        self.subscriptions: dict[str, Obj] = {}
        self.invoices: dict[str, Obj] = {}
        self.charges: dict[str, Obj] = {}
        self.events: dict[str, Obj] = {}
        # What a Checkout session makes once paid: price, quantity, trial, metadata.
        self.session_setup: dict[str, Obj] = {}
        self.clocks: dict[str, SubscriptionClock] = {}
        # Customer or subscription id -> the outcomes of its next payments.
        self.armed: dict[str, list[str]] = {}
        # Bank-transfer invoices already past their due date (each counted once).
        self.overdue_marked: set[str] = set()
        # Subscription id -> its pending update (``pending_if_incomplete``).
        self.pending_updates: dict[str, PendingUpdate] = {}
        self.invoice_count = 0
        # Back to Stripe's defaults too: a test's settings never reach the next.
        self.dunning = Dunning()
        self.prices.clear()
        self.products.clear()
        for config in self._price_configs:
            self.add_price(config)

    def add_price(self, config: Mapping[str, Any]) -> None:
        product_id = str(config.get("product") or f"prod_{config['id']}")
        product_name = str(config.get("product_name") or product_id)
        now = self.clock.now()
        self.products.setdefault(
            product_id,
            {
                "id": product_id,
                "object": "product",
                "active": True,
                "created": now,
                "default_price": config["id"],
                "description": None,
                "livemode": False,
                "metadata": {},
                "name": product_name,
                "type": "service",
                "updated": now,
            },
        )
        unit_amount = int(config["unit_amount"])
        self.prices[str(config["id"])] = {
            "id": str(config["id"]),
            "object": "price",
            "active": True,
            "billing_scheme": "per_unit",
            "created": now,
            "currency": str(config["currency"]).lower(),
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": config.get("lookup_key"),
            "metadata": dict(config.get("metadata") or {}),
            "nickname": config.get("nickname"),
            "product": product_id,
            "recurring": {
                "interval": str(config["interval"]),
                "interval_count": int(config.get("interval_count") or 1),
                "meter": None,
                "trial_period_days": None,
                "usage_type": "licensed",
            },
            "tax_behavior": "unspecified",
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "recurring",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        }

    def lookup(self, object_id: str) -> Obj | None:
        for store in (
            self.customers,
            self.subscriptions,
            self.invoices,
            self.charges,
            self.sessions,
            self.portal_sessions,
            self.prices,
            self.products,
            self.events,
        ):
            if object_id in store:
                return store[object_id]
        return None

    def fresh_id(self, prefix: str, length: int = 24) -> str:
        while True:
            candidate = new_id(prefix, length)
            if self.lookup(candidate) is None:
                return candidate

    def get(self, store: dict[str, Obj], kind: str, object_id: str) -> Obj:
        found = store.get(object_id)
        if found is None:
            raise missing(kind, object_id)
        return found

    def price(self, price_id: str, param: str) -> Obj:
        price = self.prices.get(price_id)
        if price is None:
            raise missing("price", price_id, param)
        return price

    def customer(self, customer_id: str, param: str = "customer") -> Obj:
        customer = self.customers.get(customer_id)
        if customer is None:
            raise missing("customer", customer_id, param)
        return customer

    def subscription(self, subscription_id: str, param: str = "id") -> Obj:
        sub = self.subscriptions.get(subscription_id)
        if sub is None:
            raise missing("subscription", subscription_id, param)
        return sub
