"""What a subscription's price or quantity change costs: the changed item, the
proration lines, and whether they are invoiced now."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from stripe_emulator.clock import iso, shift
from stripe_emulator.lines import Lines
from stripe_emulator.params import (
    Obj,
    StripeError,
    missing,
    param_int,
    param_str,
)
from stripe_emulator.store import Store

# What a price change does: invoice it now, add it to the next invoice, or neither.
PRORATION_BEHAVIORS = ("always_invoice", "create_prorations", "none")


@dataclass(frozen=True)
class Change:
    lines: list[Obj]
    invoice_now: bool
    keep_pending: list[Obj]  # the pending prorations after the change
    new_anchor: int | None = None  # a billing interval change restarts the cycle


@dataclass
class Proration:
    store: Store
    lines: Lines

    def item_change(self, sub: Obj, items: list[Any], param: str) -> tuple[Obj, int]:
        item = sub["items"]["data"][0]
        if len(items) != 1 or not isinstance(items[0], Mapping):
            raise StripeError(
                400,
                "The Stripe emulator supports one item per subscription: pass "
                f"{param}[0][id] and {param}[0][price].",
                param=param,
            )
        item_id = param_str(items[0], "id", f"{param}[0][id]")
        if item_id is None:
            raise StripeError(
                400,
                "The Stripe emulator supports one item per subscription: pass "
                f"{param}[0][id] (the subscription item to change); without it "
                "Stripe would add a second item.",
                param=f"{param}[0][id]",
            )
        if item_id != item["id"]:
            raise missing("subscription_item", item_id, f"{param}[0][id]")
        price_id = param_str(items[0], "price", f"{param}[0][price]")
        price = (
            item["price"]
            if price_id is None
            else self.store.price(price_id, f"{param}[0][price]")
        )
        if price["currency"] != sub["currency"]:
            raise StripeError(
                400,
                f"The price specified is in {price['currency']}, but this "
                f"subscription is billed in {sub['currency']}. A subscription's "
                "prices must all share its currency.",
                param=f"{param}[0][price]",
            )
        quantity = (
            param_int(items[0], "quantity", f"{param}[0][quantity]", 1)
            or item["quantity"]
        )
        return price, quantity

    def plan_change(
        self,
        sub: Obj,
        new_price: Obj,
        quantity: int,
        behavior: str,
        proration_date: int | None,
    ) -> Change:
        """The lines a price change makes, and whether they are invoiced now.

        Same interval: ``round(new * remaining / period) - round(old * remaining /
        period)`` over the item's period ``[start, end)`` from ``proration_date``, in
        two lines (a credit and a charge), invoiced now (``always_invoice``, with any
        pending prorations), left pending for the next invoice
        (``create_prorations``) or dropped (``none``). Another interval restarts the
        billing cycle at ``proration_date``: the new price's whole first period is
        invoiced at once, less the unused time (unless ``none``). A trialing
        subscription just changes price (``always_invoice``: a $0 invoice now).
        """
        item = sub["items"]["data"][0]
        old_price = item["price"]
        start, end = item["current_period_start"], item["current_period_end"]
        t = self.store.clock.now() if proration_date is None else proration_date
        if not start <= t <= end:
            raise StripeError(
                400,
                f"The proration_date ({t}) must be within the subscription item's "
                f"current period ({start} to {end}).",
                param="proration_date",
            )
        pending = self.store.clocks[sub["id"]].pending
        if sub["status"] == "trialing":
            # Trial time is free: nothing to prorate, but ``always_invoice`` still
            # makes its invoice now, for 0.
            return Change([], behavior == "always_invoice", list(pending))
        remaining, period = max(0, end - t), max(1, end - start)
        credit = -_round(
            Fraction(old_price["unit_amount"] * item["quantity"] * remaining, period)
        )
        charge = _round(
            Fraction(new_price["unit_amount"] * quantity * remaining, period)
        )
        when = iso(t)[:10]
        old_name = self.lines.describe(old_price, item["quantity"])
        new_name = self.lines.describe(new_price, quantity)
        prorations = (
            []
            if remaining == 0
            else [
                self.lines.line_spec(
                    sub,
                    item,
                    old_price,
                    credit,
                    t,
                    end,
                    f"Unused time on {old_name} after {when}",
                    proration=True,
                ),
                self.lines.line_spec(
                    sub,
                    item,
                    new_price,
                    charge,
                    t,
                    end,
                    f"Remaining time on {new_name} after {when}",
                    proration=True,
                    quantity=quantity,
                ),
            ]
        )
        same_cycle = (
            old_price["recurring"]["interval"],
            old_price["recurring"]["interval_count"],
        ) == (
            new_price["recurring"]["interval"],
            new_price["recurring"]["interval_count"],
        )
        if not same_cycle:
            recurring = new_price["recurring"]
            new_end = shift(t, recurring["interval"], recurring["interval_count"])
            lines = [
                *pending,
                *(prorations[:1] if behavior != "none" else []),
                self.lines.full_line(sub, item, new_price, t, new_end, quantity),
            ]
            return Change(lines, True, [], new_anchor=t)
        if old_price["id"] == new_price["id"] and quantity == item["quantity"]:
            prorations = []
        if behavior == "always_invoice":
            return Change([*pending, *prorations], True, [])
        if behavior == "create_prorations":
            return Change([], False, [*pending, *prorations])
        return Change([], False, list(pending))

    def unused_time(self, sub: Obj) -> list[Obj]:
        """The credit for the rest of the current period, from now (none once
        the period is over)."""
        item = sub["items"]["data"][0]
        price = item["price"]
        start, end = item["current_period_start"], item["current_period_end"]
        now = self.store.clock.now()
        remaining, period = max(0, end - now), max(1, end - start)
        if remaining == 0:
            return []
        credit = -_round(
            Fraction(price["unit_amount"] * item["quantity"] * remaining, period)
        )
        name = self.lines.describe(price, item["quantity"])
        return [
            self.lines.line_spec(
                sub,
                item,
                price,
                credit,
                now,
                end,
                f"Unused time on {name} after {iso(now)[:10]}",
                proration=True,
            )
        ]


def _round(value: Fraction) -> int:
    return round(value)
