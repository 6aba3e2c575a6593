"""Invoice lines: a period of a price, in full or prorated, described as Stripe
describes it."""

from __future__ import annotations

from dataclasses import dataclass

from stripe_emulator.params import (
    Obj,
)
from stripe_emulator.store import Store


@dataclass
class Lines:
    store: Store

    def name(self, price: Obj) -> str:
        product = self.store.products.get(price["product"])
        return str(price.get("nickname") or (product or {}).get("name") or price["id"])

    def describe(self, price: Obj, quantity: int) -> str:
        return f"{quantity} \u00d7 {self.name(price)}"

    def line_spec(
        self,
        sub: Obj,
        item: Obj,
        price: Obj,
        amount: int,
        start: int,
        end: int,
        description: str,
        *,
        proration: bool = False,
        quantity: int | None = None,
    ) -> Obj:
        return {
            "id": self.store.fresh_id("il_"),
            "object": "line_item",
            "amount": amount,
            "currency": price["currency"],
            "description": description,
            "discount_amounts": [],
            "discountable": True,
            "discounts": [],
            "invoice": None,
            "livemode": False,
            "metadata": {},
            "parent": {
                "invoice_item_details": None,
                "subscription_item_details": {
                    "invoice_item": self.store.fresh_id("ii_") if proration else None,
                    "proration": proration,
                    "proration_details": {"credited_items": None},
                    "subscription": sub["id"],
                    "subscription_item": item["id"],
                },
                "type": "subscription_item_details",
            },
            "period": {"end": end, "start": start},
            "pretax_credit_amounts": [],
            "pricing": {
                "price_details": {"price": price["id"], "product": price["product"]},
                "type": "price_details",
                "unit_amount_decimal": str(price["unit_amount"]),
            },
            "quantity": item["quantity"] if quantity is None else quantity,
            "subtotal": amount,
            "taxes": [],
        }

    def full_line(
        self,
        sub: Obj,
        item: Obj,
        price: Obj,
        start: int,
        end: int,
        quantity: int | None = None,
    ) -> Obj:
        count = item["quantity"] if quantity is None else quantity
        recurring = price["recurring"]
        unit = price["unit_amount"]
        every = (
            recurring["interval"]
            if recurring["interval_count"] == 1
            else (f"{recurring['interval_count']} {recurring['interval']}s")
        )
        return self.line_spec(
            sub,
            item,
            price,
            unit * count,
            start,
            end,
            f"{self.describe(price, count)} "
            f"(at {money(unit, price['currency'])} / {every})",
            quantity=count,
        )


def money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"
