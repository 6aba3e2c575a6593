"""Collecting an invoice's payment: it goes through, unless a failure was armed for
the customer or subscription (``fail_next_payment``), or it waits for a bank
transfer (``send_invoice``)."""

from __future__ import annotations

from dataclasses import dataclass

from stripe_emulator.charges import new_charge
from stripe_emulator.clock import DAY
from stripe_emulator.params import (
    Obj,
    StripeError,
    missing,
)
from stripe_emulator.store import Store


@dataclass
class Payments:
    store: Store

    def fail_next_payment(
        self, target: str, action_required: bool = False, times: int = 1
    ) -> None:
        """The next ``times`` payments of ``target`` fail (retries included)."""
        if (
            target not in self.store.customers
            and target not in self.store.subscriptions
        ):
            raise missing("customer or subscription", target)
        outcome = "action_required" if action_required else "failed"
        self.store.armed[target] = [outcome] * times

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
        key = self._armed_key(customer_id, sub_id)
        return None if key is None else self.store.armed[key][0]

    def disarm(self, customer_id: str, sub_id: str | None) -> str | None:
        key = self._armed_key(customer_id, sub_id)
        if key is None:
            return None
        outcomes = self.store.armed[key]
        outcome = outcomes.pop(0)
        if not outcomes:
            del self.store.armed[key]
        return outcome

    def _armed_key(self, customer_id: str, sub_id: str | None) -> str | None:
        if sub_id is not None and sub_id in self.store.armed:
            return sub_id
        return customer_id if customer_id in self.store.armed else None

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
        if armed == "failed":
            self.schedule_retry(invoice)
        return armed

    def schedule_retry(self, invoice: Obj) -> None:
        """Smart Retries aside, Stripe's custom schedule: the next attempt so many
        days after this one, none once the schedule is spent. Only renewals are
        retried (a first invoice leaves its subscription incomplete, a change's
        stays pending, as with Stripe)."""
        if invoice["billing_reason"] != "subscription_cycle":
            return
        retries = self.store.dunning.retry_days
        done = invoice["attempt_count"] - 1
        invoice["next_payment_attempt"] = (
            self.store.clock.now() + retries[done] * DAY
            if done < len(retries)
            else None
        )


def declined() -> StripeError:
    return StripeError(
        402,
        "Your card was declined.",
        type="card_error",
        code="card_declined",
        decline_code="generic_decline",
    )
