"""Invoices: made by subscriptions (first, update, cycle), previewed, listed, and
paid on the hosted invoice page."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stripe_emulator.clock import DAY, shift
from stripe_emulator.events import EventLog
from stripe_emulator.lines import Lines
from stripe_emulator.params import (
    Obj,
    StripeError,
    param_choice,
    param_hash,
    param_int,
    param_list,
    param_str,
)
from stripe_emulator.payments import Payments
from stripe_emulator.proration import PRORATION_BEHAVIORS, Change, Proration
from stripe_emulator.store import Store


@dataclass
class Invoices:
    store: Store
    log: EventLog
    lines: Lines
    payments: Payments
    proration: Proration

    def first_invoice(self, sub: Obj) -> Obj:
        item = sub["items"]["data"][0]
        price = item["price"]
        start, end = item["current_period_start"], item["current_period_end"]
        if sub["trial_end"] is not None:
            line = self.lines.line_spec(
                sub,
                item,
                price,
                0,
                start,
                end,
                f"Trial period for {self.lines.name(price)}",
            )
        else:
            line = self.lines.full_line(sub, item, price, start, end)
        return self.new_invoice(sub, [line], "subscription_create")

    def new_invoice(
        self,
        sub: Obj,
        lines: list[Obj],
        billing_reason: str,
        *,
        period: tuple[int, int] | None = None,
        preview: bool = False,
    ) -> Obj:
        now = self.store.clock.now()
        customer = self.store.customers[sub["customer"]]
        invoice_id = self.store.fresh_id("upcoming_in_" if preview else "in_")
        total = sum(line["amount"] for line in lines)
        # A bank-transfer invoice is born a draft, as Stripe makes it: no number,
        # no hosted page, until it is finalized (``finalize``, or an hour later).
        draft = sub["collection_method"] == "send_invoice"
        rendered = []
        for line in lines:
            copied = copy.deepcopy(line)
            copied["invoice"] = None if preview else invoice_id
            rendered.append(copied)
        invoice: Obj = {
            "id": invoice_id,
            "object": "invoice",
            "account_country": "US",
            "account_name": "Strata (local Stripe emulator)",
            "amount_due": max(0, total),
            "amount_overpaid": 0,
            "amount_paid": 0,
            "amount_remaining": max(0, total),
            "amount_shipping": 0,
            "attempt_count": 0,
            "attempted": False,
            "auto_advance": not preview,
            "automatic_tax": {
                "disabled_reason": None,
                "enabled": False,
                "liability": None,
                "status": None,
            },
            "billing_reason": billing_reason,
            "collection_method": sub["collection_method"],
            "created": now,
            "currency": sub["currency"],
            "customer": customer["id"],
            "customer_email": customer["email"],
            "customer_name": customer["name"],
            "customer_tax_exempt": customer["tax_exempt"],
            "default_payment_method": None,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": [],
            "due_date": None,
            "effective_at": None,
            "ending_balance": None,
            "hosted_invoice_url": None,
            "invoice_pdf": None,
            "issuer": {"type": "self"},
            "last_finalization_error": None,
            "lines": {
                "object": "list",
                "data": rendered,
                "has_more": False,
                "total_count": len(rendered),
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": None,
            "number": None,
            "on_behalf_of": None,
            "parent": {
                "quote_details": None,
                "subscription_details": {
                    "metadata": dict(sub["metadata"]),
                    "subscription": sub["id"],
                },
                "type": "subscription_details",
            },
            "period_end": period[1] if period else now,
            "period_start": period[0] if period else now,
            "payment_settings": {
                "default_mandate": None,
                "payment_method_options": None,
                "payment_method_types": copy.deepcopy(
                    sub["payment_settings"]["payment_method_types"]
                ),
            },
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "starting_balance": 0,
            "status": "draft",
            "status_transitions": {
                "finalized_at": None,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            "subtotal": total,
            "subtotal_excluding_tax": total,
            "total": total,
            "total_discount_amounts": [],
            "total_excluding_tax": total,
            "total_taxes": [],
            "webhooks_delivered_at": None,
        }
        if preview:
            self.apply_balance(invoice, customer, commit=False)
            return invoice
        self.store.invoices[invoice_id] = invoice
        sub["latest_invoice"] = invoice_id
        if not draft:
            self.finalize(invoice)
        return invoice

    def finalize(self, invoice: Obj) -> None:
        """Draft to open: numbered, given its hosted page and PDF, its due date
        (bank transfer), and the customer's balance applied to it."""
        now = self.store.clock.now()
        self.store.invoice_count += 1
        sub = self.store.subscriptions[
            invoice["parent"]["subscription_details"]["subscription"]
        ]
        base = f"{self.store.base_url}/invoices/{invoice['id']}"
        invoice.update(
            status="open",
            number=f"EMU-{self.store.invoice_count:04d}",
            effective_at=now,
            hosted_invoice_url=f"{base}/pay",
            invoice_pdf=f"{base}.pdf",
        )
        if invoice["collection_method"] == "send_invoice" and sub["days_until_due"]:
            invoice["due_date"] = now + sub["days_until_due"] * DAY
        invoice["status_transitions"]["finalized_at"] = now
        self.apply_balance(invoice, self.store.customers[invoice["customer"]])

    def apply_balance(
        self, invoice: Obj, customer: Obj, *, commit: bool = True
    ) -> None:
        """Stripe's customer balance (negative: credit the customer holds): it
        pays what it can of the invoice, and an invoice whose total is negative
        (a downgrade, a cancellation's unused time) adds to it."""
        balance = customer["balance"]
        owed = invoice["total"] + balance
        invoice.update(
            starting_balance=balance,
            ending_balance=min(0, owed),
            amount_due=max(0, owed),
            amount_remaining=max(0, owed),
        )
        if commit:
            customer["balance"] = min(0, owed)

    def finalize_invoice(self, invoice_id: str) -> Obj:
        """``POST /v1/invoices/{id}/finalize``: ``invoice.finalized``, and an
        invoice the balance paid whole is paid at once (``invoice.paid``)."""
        invoice = self.store.get(self.store.invoices, "invoice", invoice_id)
        if invoice["status"] != "draft":
            raise StripeError(
                400,
                "This invoice is already finalized, you can't re-finalize a "
                "non-draft invoice.",
                code="invoice_not_editable",
            )
        self.finalize(invoice)
        self.log.emit("invoice.finalized", invoice)
        if invoice["amount_due"] == 0:
            self.payments.mark_paid(invoice)
            self.log.emit("invoice.paid", invoice)
        return invoice

    def emit_result(self, invoice: Obj, result: str) -> None:
        self.log.emit(
            {
                "paid": "invoice.paid",
                "failed": "invoice.payment_failed",
                "action_required": "invoice.payment_action_required",
                "open": "invoice.finalized",
                "draft": "invoice.created",
            }[result],
            invoice,
        )

    def preview_invoice(self, params: Mapping[str, Any]) -> Obj:
        """``POST /v1/invoices/create_preview``: the invoice a subscription change
        would make (``always_invoice``, or another billing interval), else the
        subscription's next invoice with the change applied."""
        customer_id = param_str(params, "customer")
        sub_id = param_str(params, "subscription")
        if sub_id is None:
            raise StripeError(
                400,
                "The Stripe emulator previews invoices of existing subscriptions only: "
                "pass subscription.",
                code="parameter_missing",
                param="subscription",
            )
        sub = self.store.subscription(sub_id, "subscription")
        if customer_id is not None and customer_id != sub["customer"]:
            raise StripeError(
                400,
                f"The subscription {sub_id} does not belong to the customer "
                f"{customer_id}.",
                param="customer",
            )
        details = param_hash(params, "subscription_details")
        items = param_list(details, "items")
        behavior = (
            param_choice(
                details,
                "proration_behavior",
                PRORATION_BEHAVIORS,
                "subscription_details[proration_behavior]",
            )
            or "create_prorations"
        )
        t = param_int(details, "proration_date", "subscription_details[proration_date]")
        t = self.store.clock.now() if t is None else t
        item = sub["items"]["data"][0]
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise StripeError(
                400,
                "No upcoming invoices for a canceled subscription.",
                code="invoice_upcoming_none",
            )
        price, quantity = item["price"], item["quantity"]
        change: Change | None = None
        if items:
            price, quantity = self.proration.item_change(
                sub, items, "subscription_details[items]"
            )
            change = self.proration.plan_change(sub, price, quantity, behavior, t)
        if change is not None and change.invoice_now:
            invoice = self.new_invoice(
                sub, change.lines, "subscription_update", preview=True
            )
        else:
            pending = (
                change.keep_pending if change else self.store.clocks[sub["id"]].pending
            )
            end = item["current_period_end"]
            recurring = price["recurring"]
            next_end = shift(end, recurring["interval"], recurring["interval_count"])
            lines = [
                *pending,
                self.lines.full_line(sub, item, price, end, next_end, quantity),
            ]
            invoice = self.new_invoice(
                sub,
                lines,
                "upcoming",
                period=(item["current_period_start"], end),
                preview=True,
            )
            invoice["created"] = end
        invoice["parent"]["subscription_details"]["subscription_proration_date"] = t
        return invoice

    def list_invoices(self, params: Mapping[str, Any]) -> list[Obj]:
        customer = param_str(params, "customer")
        subscription = param_str(params, "subscription")
        status = param_choice(
            params,
            "status",
            ("draft", "open", "paid", "uncollectible", "void"),
            "status",
        )
        return [
            invoice
            for invoice in reversed(self.store.invoices.values())
            if (customer is None or invoice["customer"] == customer)
            and (
                subscription is None
                or invoice["parent"]["subscription_details"]["subscription"]
                == subscription
            )
            and (status is None or invoice["status"] == status)
        ]

    def pay_invoice(self, invoice_id: str) -> Obj:
        """The hosted invoice page's "pay" (a bank transfer arriving): no failure."""
        invoice = self.store.get(self.store.invoices, "invoice", invoice_id)
        if invoice["status"] != "open":
            return invoice
        self.payments.mark_paid(invoice)
        self.log.emit("invoice.paid", invoice)
        sub_id = invoice["parent"]["subscription_details"]["subscription"]
        held = self.store.pending_updates.get(sub_id)
        if held is not None and held.invoice_id == invoice["id"]:
            self.apply_pending_update(sub_id)
        sub = self.store.subscriptions.get(sub_id)
        if sub is not None and sub["status"] in ("past_due", "unpaid", "incomplete"):
            others = [
                i
                for i in self.list_invoices({"subscription": sub_id, "status": "open"})
                if i["collection_method"] == "charge_automatically"
                or (
                    i["due_date"] is not None
                    and i["due_date"] <= self.store.clock.now()
                )
            ]
            if not others:
                before = copy.deepcopy(sub)
                sub["status"] = "active"
                self.log.emit_update(sub, before)
        return invoice

    def apply_pending_update(self, sub_id: str) -> None:
        """The invoice of a pending update was paid: apply the held changes."""
        held = self.store.pending_updates.pop(sub_id, None)
        sub = self.store.subscriptions.get(sub_id)
        if held is None or sub is None:
            return
        before = copy.deepcopy(sub)
        for key in ("items", "billing_cycle_anchor", "cancel_at"):
            sub[key] = copy.deepcopy(held.subscription[key])
        sub["pending_update"] = None
        self.store.clocks[sub_id] = held.clock
        if sub["status"] in ("past_due", "unpaid", "incomplete"):
            sub["status"] = "active"
        self.log.emit_update(sub, before)

    def expire_pending_update(self, sub_id: str) -> None:
        """A pending update not paid in time: discarded, its invoice voided."""
        held = self.store.pending_updates.pop(sub_id, None)
        sub = self.store.subscriptions.get(sub_id)
        if held is None or sub is None:
            return
        before = copy.deepcopy(sub)
        sub["pending_update"] = None
        invoice = self.store.invoices.get(held.invoice_id)
        if invoice is not None and invoice["status"] == "open":
            invoice.update(status="void", amount_remaining=0, next_payment_attempt=None)
            invoice["status_transitions"]["voided_at"] = self.store.clock.now()
            # What the invoice took from (or gave to) the balance goes back.
            customer = self.store.customers.get(invoice["customer"])
            if customer is not None:
                customer["balance"] += (
                    invoice["starting_balance"] - invoice["ending_balance"]
                )
            self.log.emit("invoice.voided", invoice)
        self.log.emit_update(sub, before)
