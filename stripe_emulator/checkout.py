"""Checkout sessions (``mode=subscription``, one line item) and what paying on the
Checkout page does; billing portal sessions."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stripe_emulator.clock import DAY
from stripe_emulator.customers import Customers
from stripe_emulator.events import EventLog
from stripe_emulator.invoices import Invoices
from stripe_emulator.params import (
    Obj,
    StripeError,
    merge_metadata,
    param_hash,
    param_int,
    param_list,
    param_required,
    param_str,
)
from stripe_emulator.payments import Payments
from stripe_emulator.store import Store
from stripe_emulator.subscriptions import Subscriptions

CHECKOUT_EXPIRES_AFTER = DAY


@dataclass
class Checkout:
    store: Store
    log: EventLog
    customer_ops: Customers
    subscription_ops: Subscriptions
    invoice_ops: Invoices
    payments: Payments

    def create_checkout_session(self, params: Mapping[str, Any]) -> Obj:
        mode = param_required(params, "mode")
        if mode not in ("payment", "setup", "subscription"):
            raise StripeError(
                400,
                "Invalid mode: must be one of payment, setup, or subscription",
                param="mode",
            )
        if mode != "subscription":
            raise StripeError(
                400,
                "The Stripe emulator supports mode=subscription only.",
                param="mode",
            )
        customer_id = param_str(params, "customer")
        if customer_id is not None:
            self.store.customer(customer_id)
        line_items = param_list(params, "line_items")
        if not line_items:
            raise StripeError(
                400,
                "Missing required param: line_items.",
                code="parameter_missing",
                param="line_items",
            )
        if len(line_items) != 1 or not isinstance(line_items[0], Mapping):
            raise StripeError(
                400,
                "The Stripe emulator supports exactly one line item.",
                param="line_items",
            )
        price_id = param_required(line_items[0], "price", "line_items[0][price]")
        price = self.store.price(price_id, "line_items[0][price]")
        quantity = (
            param_int(line_items[0], "quantity", "line_items[0][quantity]", 1) or 1
        )
        sub_data = param_hash(params, "subscription_data")
        trial_days = param_int(
            sub_data, "trial_period_days", "subscription_data[trial_period_days]", 1
        )
        now = self.store.clock.now()
        session_id = self.store.fresh_id("cs_test_", 58)
        amount = 0 if trial_days else price["unit_amount"] * quantity
        session: Obj = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "automatic_tax": {
                "enabled": False,
                "liability": None,
                "provider": None,
                "status": None,
            },
            "cancel_url": param_str(params, "cancel_url"),
            "client_reference_id": param_str(params, "client_reference_id"),
            "created": now,
            "currency": price["currency"],
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": customer_id,
            "customer_email": param_str(params, "customer_email"),
            "expires_at": now + CHECKOUT_EXPIRES_AFTER,
            "invoice": None,
            "livemode": False,
            "locale": param_str(params, "locale"),
            "metadata": merge_metadata({}, params.get("metadata"), "metadata"),
            "mode": mode,
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "shipping_options": [],
            "status": "open",
            "subscription": None,
            "success_url": param_str(params, "success_url"),
            "ui_mode": "hosted_page",
            "url": f"{self.store.base_url}/checkout/{session_id}",
        }
        self.store.sessions[session_id] = session
        self.store.session_setup[session_id] = {
            "price": price_id,
            "quantity": quantity,
            "trial_days": trial_days,
            "metadata": merge_metadata(
                {}, sub_data.get("metadata"), "subscription_data[metadata]"
            ),
        }
        return session

    def complete_checkout(self, session_id: str) -> Obj:
        """What paying on the Checkout page does; a second visit changes nothing.

        As with Stripe, the subscription is made ``incomplete`` (its
        ``customer.subscription.created`` says so) and turns ``active`` once its
        first invoice is paid (``invoice.paid``, then
        ``customer.subscription.updated``); one with a trial starts
        ``trialing``. ``checkout.session.completed`` comes last."""
        session = self.store.get(self.store.sessions, "checkout.session", session_id)
        if session["status"] != "open":
            return session
        setup = self.store.session_setup[session_id]
        customer_id = session["customer"]
        if customer_id is None:
            customer = self.customer_ops.create_customer(
                {"email": session["customer_email"]}
            )
            customer_id = customer["id"]
            session["customer"] = customer_id
        now = self.store.clock.now()
        price = self.store.prices[setup["price"]]
        trial_end = now + setup["trial_days"] * DAY if setup["trial_days"] else None
        sub = self.subscription_ops.new_subscription(
            self.store.customers[customer_id],
            price,
            setup["quantity"],
            setup["metadata"],
            trial_end=trial_end,
        )
        invoice = self.invoice_ops.first_invoice(sub)
        if trial_end:
            sub["status"] = "trialing"
        self.log.emit("customer.subscription.created", sub)
        before = copy.deepcopy(sub)
        # The card was just entered: the payment goes through.
        self.payments.mark_paid(invoice)
        self.log.emit("invoice.paid", invoice)
        sub["status"] = "trialing" if trial_end else "active"
        self.log.emit_update(sub, before)
        session.update(
            status="complete",
            payment_status="paid" if invoice["amount_due"] else "no_payment_required",
            subscription=sub["id"],
            invoice=invoice["id"],
            customer_details={"email": self.store.customers[customer_id]["email"]},
        )
        self.log.emit("checkout.session.completed", session)
        return session

    def create_portal_session(self, params: Mapping[str, Any]) -> Obj:
        customer_id = param_required(params, "customer")
        self.store.customer(customer_id)
        portal_id = self.store.fresh_id("bps_")
        portal: Obj = {
            "id": portal_id,
            "object": "billing_portal.session",
            "configuration": "bpc_strata_local_emulator",
            "created": self.store.clock.now(),
            "customer": customer_id,
            "flow": None,
            "livemode": False,
            "locale": None,
            "on_behalf_of": None,
            "return_url": param_str(params, "return_url"),
            "url": f"{self.store.base_url}/portal/{portal_id}",
        }
        self.store.portal_sessions[portal_id] = portal
        return portal
