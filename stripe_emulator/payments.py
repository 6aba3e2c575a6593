"""Collecting an invoice's payment: it goes through, unless a failure was armed for
the customer or subscription (``fail_next_payment``), or it waits for a bank
transfer (``send_invoice``)."""

from __future__ import annotations

from dataclasses import dataclass

from stripe_emulator.charges import new_charge
from stripe_emulator.params import (
    Obj,
    StripeError,
    missing,
)
from stripe_emulator.store import Store


@dataclass
class Payments:
    store: Store

    def fail_next_payment(self, target: str, action_required: bool = False) -> None:
        if (
            target not in self.store.customers
            and target not in self.store.subscriptions
        ):
            raise missing("customer or subscription", target)
        self.store.armed[target] = "action_required" if action_required else "failed"

    def mark_paid(self, invoice: Obj) -> None:
        now = self.store.clock.now()
        invoice.update(
            status="paid",
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            attempted=True,
            next_payment_attempt=None,
        )
        invoice["status_transitions"]["paid_at"] = now
        if invoice["amount_due"] > 0:
            new_charge(self.store, invoice)

    def armed_for(self, customer_id: str, sub_id: str | None) -> str | None:
        if sub_id is not None and sub_id in self.store.armed:
            return self.store.armed[sub_id]
        return self.store.armed.get(customer_id)

    def disarm(self, customer_id: str, sub_id: str | None) -> str | None:
        if sub_id is not None and sub_id in self.store.armed:
            return self.store.armed.pop(sub_id)
        return self.store.armed.pop(customer_id, None)

    def collect(self, invoice: Obj, sub: Obj) -> str:
        """Try to collect ``invoice``: ``paid``, ``failed``, ``action_required``, or
        ``open`` (sent to the customer to pay by bank transfer), ``draft`` (not
        finalized yet)."""
        if invoice["status"] == "draft":
            return "draft"
        if invoice["amount_due"] == 0:
            self.mark_paid(invoice)
            return "paid"
        if invoice["collection_method"] == "send_invoice":
            return "open"
        invoice["attempt_count"] += 1
        invoice["attempted"] = True
        armed = self.disarm(sub["customer"], sub["id"])
        if armed is None:
            self.mark_paid(invoice)
            return "paid"
        return armed


def declined() -> StripeError:
    return StripeError(
        402,
        "Your card was declined.",
        type="card_error",
        code="card_declined",
        decline_code="generic_decline",
    )
