"""Subscriptions: create, update (price, quantity, cancel at period end, metadata),
cancel, list; the status an invoice's payment leaves them in."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stripe_emulator.clock import DAY, shift
from stripe_emulator.events import EventLog
from stripe_emulator.invoices import Invoices
from stripe_emulator.params import (
    Obj,
    StripeError,
    merge_metadata,
    param_bool,
    param_choice,
    param_hash,
    param_int,
    param_list,
    param_required,
    param_str,
    previous_attributes,
)
from stripe_emulator.payments import Payments, declined
from stripe_emulator.proration import PRORATION_BEHAVIORS, Change, Proration
from stripe_emulator.store import PendingUpdate, Store, SubscriptionClock, plan_of

# What to do when the first payment (or a change's) needs the customer.
# Stripe keeps a pending update this long before discarding it.
PENDING_UPDATE_TTL = 23 * 3600

PAYMENT_BEHAVIORS = (
    "allow_incomplete",
    "default_incomplete",
    "error_if_incomplete",
    "pending_if_incomplete",
)


@dataclass
class Subscriptions:
    store: Store
    log: EventLog
    payments: Payments
    invoice_ops: Invoices
    proration: Proration

    def new_subscription(
        self,
        customer: Obj,
        price: Obj,
        quantity: int,
        metadata: Obj,
        *,
        trial_end: int | None = None,
        collection_method: str = "charge_automatically",
        days_until_due: int | None = None,
        payment_method_types: list[str] | None = None,
    ) -> Obj:
        now = self.store.clock.now()
        sub_id = self.store.fresh_id("sub_")
        recurring = price["recurring"]
        if trial_end is not None:
            anchor, cycle, end = trial_end, 0, trial_end
        else:
            anchor, cycle = now, 1
            end = shift(now, recurring["interval"], recurring["interval_count"])
        sub: Obj = {
            "id": sub_id,
            "object": "subscription",
            "application": None,
            "automatic_tax": {
                "disabled_reason": None,
                "enabled": False,
                "liability": None,
            },
            "billing_cycle_anchor": anchor,
            "billing_mode": {"flexible": None, "type": "classic", "updated_at": None},
            "billing_schedules": [],
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": collection_method,
            "created": now,
            "currency": price["currency"],
            "customer": customer["id"],
            "days_until_due": days_until_due,
            "default_payment_method": None,
            "description": None,
            "discounts": [],
            "ended_at": None,
            "invoice_settings": {
                "account_tax_ids": None,
                "issuer": {"type": "self"},
            },
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": self.store.fresh_id("si_", 14),
                        "object": "subscription_item",
                        "created": now,
                        "current_period_end": end,
                        "current_period_start": now,
                        "discounts": [],
                        "metadata": {},
                        "plan": plan_of(price),
                        "price": copy.deepcopy(price),
                        "quantity": quantity,
                        "subscription": sub_id,
                        "tax_rates": [],
                    }
                ],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/subscription_items?subscription={sub_id}",
            },
            "latest_invoice": None,
            "livemode": False,
            "metadata": dict(metadata),
            "pause_collection": None,
            "payment_settings": {
                "payment_method_options": None,
                "payment_method_types": payment_method_types,
                "save_default_payment_method": "off",
            },
            "pending_update": None,
            "start_date": now,
            "status": "incomplete",
            "test_clock": None,
            "trial_end": trial_end,
            "trial_start": now if trial_end is not None else None,
        }
        self.store.subscriptions[sub_id] = sub
        self.store.clocks[sub_id] = SubscriptionClock(anchor=anchor, cycle=cycle)
        return sub

    def create_subscription(self, params: Mapping[str, Any]) -> Obj:
        customer = self.store.customer(param_required(params, "customer"))
        items = param_list(params, "items")
        if not items:
            raise StripeError(
                400,
                "Missing required param: items.",
                code="parameter_missing",
                param="items",
            )
        if len(items) != 1 or not isinstance(items[0], Mapping):
            raise StripeError(
                400, "The Stripe emulator supports exactly one item.", param="items"
            )
        price = self.store.price(
            param_required(items[0], "price", "items[0][price]"), "items[0][price]"
        )
        quantity = param_int(items[0], "quantity", "items[0][quantity]", 1) or 1
        collection = (
            param_choice(
                params,
                "collection_method",
                ("charge_automatically", "send_invoice"),
                "collection_method",
            )
            or "charge_automatically"
        )
        days_until_due = param_int(params, "days_until_due", minimum=1)
        if collection == "send_invoice" and days_until_due is None:
            raise StripeError(
                400,
                "Missing required param: days_until_due. It is required when "
                "collection_method is send_invoice.",
                code="parameter_missing",
                param="days_until_due",
            )
        payment_settings = param_hash(params, "payment_settings")
        types = [
            str(t) for t in param_list(payment_settings, "payment_method_types")
        ] or None
        trial_days = param_int(params, "trial_period_days", minimum=1)
        trial_end = param_int(params, "trial_end")
        if trial_days and trial_end is None:
            trial_end = self.store.clock.now() + trial_days * DAY
        behavior = param_choice(
            params,
            "payment_behavior",
            PAYMENT_BEHAVIORS,
            "payment_behavior",
        )
        if (
            behavior == "error_if_incomplete"
            and collection == "charge_automatically"
            and not trial_end
            and self.payments.armed_for(customer["id"], None)
        ):
            self.payments.disarm(customer["id"], None)
            raise declined()
        sub = self.new_subscription(
            customer,
            price,
            quantity,
            merge_metadata({}, params.get("metadata"), "metadata"),
            trial_end=trial_end,
            collection_method=collection,
            days_until_due=days_until_due if collection == "send_invoice" else None,
            payment_method_types=types,
        )
        invoice = self.invoice_ops.first_invoice(sub)
        if behavior == "default_incomplete" and invoice["amount_due"]:
            result = "open"
            sub["status"] = "incomplete"
        else:
            result = self.payments.collect(invoice, sub)
            if result == "paid" or collection == "send_invoice":
                sub["status"] = "trialing" if trial_end else "active"
            else:
                sub["status"] = "incomplete"
        self.log.emit("customer.subscription.created", sub)
        self.invoice_ops.emit_result(invoice, result)
        return sub

    def update_subscription(self, sub_id: str, params: Mapping[str, Any]) -> Obj:
        sub = self.store.subscription(sub_id)
        before = copy.deepcopy(sub)
        items = param_list(params, "items")
        cancel = param_bool(params, "cancel_at_period_end")
        behavior = param_choice(
            params, "proration_behavior", PRORATION_BEHAVIORS, "proration_behavior"
        )
        payment_behavior = param_choice(
            params,
            "payment_behavior",
            PAYMENT_BEHAVIORS,
            "payment_behavior",
        )
        proration_date = param_int(params, "proration_date")
        if sub["status"] in ("canceled", "incomplete_expired") and (
            items or cancel is not None or "trial_end" in params
        ):
            raise StripeError(
                400,
                "A canceled subscription can only update its cancellation_details "
                "and metadata.",
            )
        change: Change | None = None
        new_price: Obj | None = None
        quantity = sub["items"]["data"][0]["quantity"]
        if items:
            new_price, quantity = self.proration.item_change(sub, items, "items")
            change = self.proration.plan_change(
                sub,
                new_price,
                quantity,
                behavior or "create_prorations",
                proration_date,
            )
        charges = change is not None and change.invoice_now and bool(change.lines)
        if (
            charges
            and payment_behavior == "error_if_incomplete"
            and sub["collection_method"] == "charge_automatically"
            and self.payments.armed_for(sub["customer"], sub["id"])
        ):
            self.payments.disarm(sub["customer"], sub["id"])
            raise declined()
        sub["metadata"] = merge_metadata(
            sub["metadata"], params.get("metadata"), "metadata"
        )
        if cancel is True and not sub["cancel_at_period_end"]:
            now = self.store.clock.now()
            sub.update(
                cancel_at_period_end=True,
                cancel_at=sub["items"]["data"][0]["current_period_end"],
                canceled_at=now,
            )
            sub["cancellation_details"]["reason"] = "cancellation_requested"
        elif cancel is False and sub["cancel_at_period_end"]:
            sub.update(cancel_at_period_end=False, cancel_at=None, canceled_at=None)
            sub["cancellation_details"]["reason"] = None
        invoice: Obj | None = None
        result = ""
        if change is not None and new_price is not None:
            if (
                charges
                and payment_behavior == "pending_if_incomplete"
                and sub["collection_method"] == "charge_automatically"
            ):
                invoice, result = self.apply_pending(sub, change, new_price, quantity)
            else:
                invoice, result = self.apply_change(sub, change, new_price, quantity)
        self.log.emit_update(sub, before)
        if invoice is not None:
            self.invoice_ops.emit_result(invoice, result)
        return sub

    def apply_change(
        self, sub: Obj, change: Change, new_price: Obj, quantity: int
    ) -> tuple[Obj | None, str]:
        item = sub["items"]["data"][0]
        item["price"] = copy.deepcopy(new_price)
        item["plan"] = plan_of(new_price)
        item["quantity"] = quantity
        clock = self.store.clocks[sub["id"]]
        clock.pending = list(change.keep_pending)
        if change.new_anchor is not None:
            recurring = new_price["recurring"]
            clock.anchor, clock.cycle = change.new_anchor, 1
            item["current_period_start"] = change.new_anchor
            item["current_period_end"] = shift(
                change.new_anchor, recurring["interval"], recurring["interval_count"]
            )
            sub["billing_cycle_anchor"] = change.new_anchor
            if sub["cancel_at_period_end"]:
                sub["cancel_at"] = item["current_period_end"]
        if not (change.invoice_now and change.lines):
            return None, ""
        invoice = self.invoice_ops.new_invoice(sub, change.lines, "subscription_update")
        result = self.payments.collect(invoice, sub)
        self.settle_status(sub, result)
        return invoice, result

    def apply_pending(
        self, sub: Obj, change: Change, new_price: Obj, quantity: int
    ) -> tuple[Obj | None, str]:
        """``payment_behavior=pending_if_incomplete``: the change is invoiced at
        once, and applied only if that invoice is paid. Otherwise the subscription
        stays exactly as it was (it keeps cycling as if no update was asked), the
        changed values wait in ``pending_update`` until the invoice is paid, and
        ``latest_invoice`` is the open invoice. The pending update expires after
        23 hours: the changes are discarded and the invoice voided."""
        saved_sub = copy.deepcopy(sub)
        saved_clock = copy.deepcopy(self.store.clocks[sub["id"]])
        invoice, result = self.apply_change(sub, change, new_price, quantity)
        if invoice is None or result == "paid":
            return invoice, result
        applied = copy.deepcopy(sub)
        applied_clock = self.store.clocks[sub["id"]]
        sub.clear()
        sub.update(saved_sub)
        self.store.clocks[sub["id"]] = saved_clock
        sub["latest_invoice"] = invoice["id"]
        expires_at = self.store.clock.now() + PENDING_UPDATE_TTL
        sub["pending_update"] = {
            "billing_cycle_anchor": (
                applied["billing_cycle_anchor"]
                if applied["billing_cycle_anchor"] != saved_sub["billing_cycle_anchor"]
                else None
            ),
            "expires_at": expires_at,
            "subscription_items": copy.deepcopy(applied["items"]["data"]),
            "trial_end": None,
            "trial_from_plan": None,
        }
        self.store.pending_updates[sub["id"]] = PendingUpdate(
            invoice_id=invoice["id"],
            expires_at=expires_at,
            subscription=applied,
            clock=applied_clock,
        )
        return invoice, result

    def delete_customer(self, customer_id: str) -> Obj:
        """``DELETE /v1/customers/{id}``: the customer's subscriptions end at once
        (``customer.subscription.deleted`` each), then ``customer.deleted``; the
        customer is gone (any later use of it is ``resource_missing``)."""
        customer = self.store.get(self.store.customers, "customer", customer_id)
        for sub in list(self.store.subscriptions.values()):
            if sub["customer"] == customer_id and sub["status"] not in (
                "canceled",
                "incomplete_expired",
            ):
                before = copy.deepcopy(sub)
                self.end(sub, canceled_at=self.store.clock.now())
                self.store.pending_updates.pop(sub["id"], None)
                self.log.emit(
                    "customer.subscription.deleted",
                    sub,
                    previous_attributes(before, sub),
                )
        del self.store.customers[customer_id]
        self.log.emit("customer.deleted", customer)
        return {"id": customer_id, "object": "customer", "deleted": True}

    def cancel_subscription(self, sub_id: str, params: Mapping[str, Any]) -> Obj:
        """``DELETE /v1/subscriptions/{id}``: ended now. With ``invoice_now`` a
        final invoice takes the pending prorations and, with ``prorate``, a credit
        for the unused rest of the period; a negative total goes to the
        customer's balance, which later invoices draw on."""
        sub = self.store.subscription(sub_id)
        invoice_now = param_bool(params, "invoice_now") is True
        prorate = param_bool(params, "prorate") is True
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise StripeError(
                400,
                f"The subscription {sub_id} is already canceled.",
                param="id",
            )
        before = copy.deepcopy(sub)
        lines = list(self.store.clocks[sub_id].pending)
        if prorate and sub["status"] != "trialing":
            lines += self.proration.unused_time(sub)
        self.end(sub, canceled_at=self.store.clock.now())
        invoice: Obj | None = None
        result = ""
        if invoice_now and lines:
            invoice = self.invoice_ops.new_invoice(sub, lines, "subscription_update")
            result = self.payments.collect(invoice, sub)
        self.log.emit(
            "customer.subscription.deleted", sub, previous_attributes(before, sub)
        )
        if invoice is not None:
            self.invoice_ops.emit_result(invoice, result)
        return sub

    def end(self, sub: Obj, canceled_at: int | None) -> None:
        now = self.store.clock.now()
        sub.update(status="canceled", ended_at=now, cancel_at_period_end=False)
        if sub["canceled_at"] is None:
            sub["canceled_at"] = canceled_at or now
        sub["cancellation_details"]["reason"] = "cancellation_requested"
        self.store.clocks[sub["id"]].pending = []

    def list_subscriptions(self, params: Mapping[str, Any]) -> list[Obj]:
        customer = param_str(params, "customer")
        price = param_str(params, "price")
        status = param_choice(
            params,
            "status",
            (
                "active",
                "all",
                "canceled",
                "ended",
                "incomplete",
                "incomplete_expired",
                "past_due",
                "paused",
                "trialing",
                "unpaid",
            ),
            "status",
        )
        out = []
        for sub in reversed(self.store.subscriptions.values()):
            if customer is not None and sub["customer"] != customer:
                continue
            if price is not None and sub["items"]["data"][0]["price"]["id"] != price:
                continue
            if status is None:
                if sub["status"] in ("canceled", "incomplete_expired"):
                    continue
            elif status == "ended":
                if sub["status"] not in ("canceled", "incomplete_expired"):
                    continue
            elif status != "all" and sub["status"] != status:
                continue
            out.append(sub)
        return out

    def settle_status(self, sub: Obj, result: str) -> None:
        """The subscription's status once an invoice of a running one was tried."""
        if result == "paid":
            if (
                sub["status"] != "trialing"
                or sub["trial_end"] is None
                or sub["trial_end"] <= self.store.clock.now()
            ):
                sub["status"] = "active"
        elif result == "failed":
            sub["status"] = "past_due"
        elif sub["status"] == "trialing":
            sub["status"] = "active"
