"""The emulated Stripe account: customers, prices, Checkout and portal sessions,
subscriptions, invoices and the events they cause, all in memory.

Objects are stored in the shape the Stripe API returns them (API version
``API_VERSION``), so rendering one is a deep copy. Every method runs under the
emulator's one lock (the HTTP layer holds it), so nothing here locks.

Events are emitted in this order, whatever caused them: the subscription's event
(``customer.subscription.created``/``updated``/``deleted``) first, with its final
state, then the invoice's (``invoice.paid``/``payment_failed``/
``payment_action_required``/``finalized``), then ``checkout.session.completed``.
The one exception is a payment on the hosted invoice page: ``invoice.paid``, then
the ``customer.subscription.updated`` it causes.
"""

from __future__ import annotations

import copy
import json
import secrets
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from stripe_emulator.clock import DAY, Clock, iso, shift

API_VERSION = "2026-10-28.endive"
TRIAL_WILL_END_BEFORE = 3 * DAY
CHECKOUT_EXPIRES_AFTER = DAY

Obj = dict[str, Any]

# What a price change does: invoice it now, add it to the next invoice, or neither.
PRORATION_BEHAVIORS = ("always_invoice", "create_prorations", "none")
_LIVE = ("active", "trialing", "past_due", "unpaid", "incomplete", "paused")
_ALPHABET = string.ascii_letters + string.digits


class StripeError(Exception):
    """An error answered as Stripe does: HTTP status and ``{"error": {...}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code

    def body(self) -> Obj:
        error: Obj = {"message": self.message, "type": self.type}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code}"
        if self.param is not None:
            error["param"] = self.param
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        return {"error": error}


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(
        404 if param == "id" else 400,
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


# --- reading parameters ---------------------------------------------------------


def _required(params: Mapping[str, Any], name: str, param: str | None = None) -> Any:
    value = params.get(name)
    name = param or name
    if value is None:
        raise StripeError(
            400,
            f"Missing required param: {name}.",
            code="parameter_missing",
            param=name,
        )
    if value == "":
        raise StripeError(
            400,
            f"You passed an empty string for '{name}'. We assume empty values are an "
            f"attempt to unset a parameter; however '{name}' cannot be unset. You "
            f"should remove '{name}' from your request or supply a non-empty value.",
            code="parameter_invalid_empty",
            param=name,
        )
    return value


def _string(
    params: Mapping[str, Any], name: str, param: str | None = None
) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise StripeError(400, f"Invalid string: {value!r}", param=param or name)
    return value


def _int(
    params: Mapping[str, Any], name: str, param: str | None = None, minimum: int = 0
) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise StripeError(
            400,
            f"Invalid integer: {value}",
            code="parameter_invalid_integer",
            param=param or name,
        ) from None
    if number < minimum:
        raise StripeError(
            400,
            f"This value must be greater than or equal to {minimum}.",
            code="parameter_invalid_integer",
            param=param or name,
        )
    return number


def _bool(params: Mapping[str, Any], name: str) -> bool | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if value in ("true", True):
        return True
    if value in ("false", False):
        return False
    raise StripeError(400, f"Invalid boolean: {value}", param=name)


def _hash(params: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = params.get(name)
    if value is None or value == "":
        return {}
    if not isinstance(value, Mapping):
        raise StripeError(400, f"Invalid hash: {name}", param=name)
    return value


def _array(params: Mapping[str, Any], name: str) -> list[Any]:
    value = params.get(name)
    if value is None or value == "":
        return []
    if not isinstance(value, list):
        raise StripeError(400, f"Invalid array: {name}", param=name)
    return value


def _choice(
    params: Mapping[str, Any], name: str, choices: Iterable[str], param: str
) -> str | None:
    value = _string(params, name, param)
    options = tuple(choices)
    if value is not None and value not in options:
        raise StripeError(
            400,
            f"Invalid {name}: must be one of {', '.join(options[:-1])}, "
            f"or {options[-1]}",
            param=param,
        )
    return value


def merge_metadata(current: Mapping[str, str], update: Any, param: str) -> Obj:
    """Stripe's metadata update: keys merge, ``""`` unsets a key, and
    ``metadata=""`` clears them all."""
    if update is None:
        return dict(current)
    if update == "":
        return {}
    if not isinstance(update, Mapping):
        raise StripeError(400, "Invalid hash", param=param)
    merged = dict(current)
    for key, value in update.items():
        if not isinstance(value, str):
            raise StripeError(400, f"Invalid value for {param}[{key}]", param=param)
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def expand_list(params: Mapping[str, Any]) -> list[str]:
    value = params.get("expand")
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise StripeError(400, "Invalid array", param="expand")
    return value


def previous_attributes(before: Any, after: Any) -> Any:
    """What changed, with the old values: Stripe's ``data.previous_attributes``
    (nested hashes are compared key by key, lists as a whole)."""
    out: Obj = {}
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            out[key] = previous_attributes(old, new)
        else:
            out[key] = copy.deepcopy(old)
    return out


@dataclass
class _SubscriptionClock:
    """Billing bookkeeping for a subscription, beside its Stripe-shaped object:
    periods are ``shift(anchor, interval, cycle * interval_count)``."""

    anchor: int
    cycle: int
    trial_will_end_sent: bool = False
    pending: list[Obj] = field(default_factory=list)  # proration lines not invoiced


@dataclass(frozen=True)
class _Change:
    lines: list[Obj]
    invoice_now: bool
    keep_pending: list[Obj]  # the pending prorations after the change
    new_anchor: int | None = None  # a billing interval change restarts the cycle


class StripeState:
    """The account. ``emit`` receives each event as it is created."""

    def __init__(
        self,
        base_url: str,
        prices: Iterable[Mapping[str, Any]],
        clock: Clock,
        emit: Callable[[Obj], None],
        *,
        webhooks: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self._emit_to = emit
        self._webhooks = webhooks
        self.prices: dict[str, Obj] = {}
        self.products: dict[str, Obj] = {}
        self._price_configs = [dict(p) for p in prices]
        # The request that causes the events being emitted (None: no API request).
        self.request_id: str | None = None
        self.idempotency_key: str | None = None
        self.reset()

    def reset(self) -> None:
        self.customers: dict[str, Obj] = {}
        self.sessions: dict[str, Obj] = {}
        self.portal_sessions: dict[str, Obj] = {}
        self.subscriptions: dict[str, Obj] = {}
        self.invoices: dict[str, Obj] = {}
        self.events: dict[str, Obj] = {}
        self._session_setup: dict[str, Obj] = {}
        self._clocks: dict[str, _SubscriptionClock] = {}
        self._armed: dict[str, str] = {}
        self._overdue_marked: set[str] = set()
        self._invoice_count = 0
        self.prices.clear()
        self.products.clear()
        for config in self._price_configs:
            self._add_price(config)

    # --- objects ----------------------------------------------------------------

    def _add_price(self, config: Mapping[str, Any]) -> None:
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
            self.sessions,
            self.portal_sessions,
            self.prices,
            self.products,
            self.events,
        ):
            if object_id in store:
                return store[object_id]
        return None

    def _fresh_id(self, prefix: str, length: int = 24) -> str:
        while True:
            candidate = new_id(prefix, length)
            if self.lookup(candidate) is None:
                return candidate

    def get(self, store: dict[str, Obj], kind: str, object_id: str) -> Obj:
        found = store.get(object_id)
        if found is None:
            raise missing(kind, object_id)
        return found

    def _price(self, price_id: str, param: str) -> Obj:
        price = self.prices.get(price_id)
        if price is None:
            raise missing("price", price_id, param)
        return price

    def _customer(self, customer_id: str, param: str = "customer") -> Obj:
        customer = self.customers.get(customer_id)
        if customer is None:
            raise missing("customer", customer_id, param)
        return customer

    def _subscription(self, subscription_id: str, param: str = "id") -> Obj:
        sub = self.subscriptions.get(subscription_id)
        if sub is None:
            raise missing("subscription", subscription_id, param)
        return sub

    # --- events ---------------------------------------------------------------

    def _emit(self, type_: str, obj: Obj, previous: Obj | None = None) -> Obj:
        data: Obj = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event: Obj = {
            "id": self._fresh_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self.clock.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1 if self._webhooks else 0,
            "request": {"id": self.request_id, "idempotency_key": self.idempotency_key},
            "type": type_,
        }
        self.events[event["id"]] = event
        self._emit_to(event)
        return event

    def _emit_update(self, sub: Obj, before: Obj) -> None:
        changed = previous_attributes(before, sub)
        if changed:
            self._emit("customer.subscription.updated", sub, changed)

    # --- customers --------------------------------------------------------------

    def create_customer(self, params: Mapping[str, Any]) -> Obj:
        customer: Obj = {
            "id": self._fresh_id("cus_", 14),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": self.clock.now(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": _string(params, "description"),
            "email": _string(params, "email"),
            "invoice_prefix": new_id("", 8).upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": merge_metadata({}, params.get("metadata"), "metadata"),
            "name": _string(params, "name"),
            "phone": _string(params, "phone"),
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        self.customers[customer["id"]] = customer
        return customer

    def update_customer(self, customer_id: str, params: Mapping[str, Any]) -> Obj:
        customer = self.get(self.customers, "customer", customer_id)
        for name in ("email", "name", "description", "phone"):
            if name in params:
                customer[name] = _string(params, name)
        customer["metadata"] = merge_metadata(
            customer["metadata"], params.get("metadata"), "metadata"
        )
        return customer

    # --- Checkout and the portal ------------------------------------------------

    def create_checkout_session(self, params: Mapping[str, Any]) -> Obj:
        mode = _required(params, "mode")
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
        customer_id = _string(params, "customer")
        if customer_id is not None:
            self._customer(customer_id)
        line_items = _array(params, "line_items")
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
        price_id = _required(line_items[0], "price", "line_items[0][price]")
        price = self._price(price_id, "line_items[0][price]")
        quantity = _int(line_items[0], "quantity", "line_items[0][quantity]", 1) or 1
        sub_data = _hash(params, "subscription_data")
        trial_days = _int(
            sub_data, "trial_period_days", "subscription_data[trial_period_days]", 1
        )
        now = self.clock.now()
        session_id = self._fresh_id("cs_test_", 58)
        amount = 0 if trial_days else price["unit_amount"] * quantity
        session: Obj = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "cancel_url": _string(params, "cancel_url"),
            "client_reference_id": _string(params, "client_reference_id"),
            "created": now,
            "currency": price["currency"],
            "customer": customer_id,
            "customer_email": _string(params, "customer_email"),
            "expires_at": now + CHECKOUT_EXPIRES_AFTER,
            "invoice": None,
            "livemode": False,
            "locale": _string(params, "locale"),
            "metadata": merge_metadata({}, params.get("metadata"), "metadata"),
            "mode": mode,
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "status": "open",
            "subscription": None,
            "success_url": _string(params, "success_url"),
            "ui_mode": "hosted",
            "url": f"{self.base_url}/checkout/{session_id}",
        }
        self.sessions[session_id] = session
        self._session_setup[session_id] = {
            "price": price_id,
            "quantity": quantity,
            "trial_days": trial_days,
            "metadata": merge_metadata(
                {}, sub_data.get("metadata"), "subscription_data[metadata]"
            ),
        }
        return session

    def complete_checkout(self, session_id: str) -> Obj:
        """What paying on the Checkout page does; a second visit changes nothing."""
        session = self.get(self.sessions, "checkout.session", session_id)
        if session["status"] != "open":
            return session
        setup = self._session_setup[session_id]
        customer_id = session["customer"]
        if customer_id is None:
            customer = self.create_customer({"email": session["customer_email"]})
            customer_id = customer["id"]
            session["customer"] = customer_id
        now = self.clock.now()
        price = self.prices[setup["price"]]
        trial_end = now + setup["trial_days"] * DAY if setup["trial_days"] else None
        sub = self._new_subscription(
            self.customers[customer_id],
            price,
            setup["quantity"],
            setup["metadata"],
            trial_end=trial_end,
        )
        invoice = self._first_invoice(sub)
        self._mark_paid(invoice)  # the card was just entered: the payment goes through
        sub["status"] = "trialing" if trial_end else "active"
        session.update(
            status="complete",
            payment_status="paid" if invoice["amount_due"] else "no_payment_required",
            subscription=sub["id"],
            invoice=invoice["id"],
            customer_details={"email": self.customers[customer_id]["email"]},
        )
        self._emit("customer.subscription.created", sub)
        self._emit("invoice.paid", invoice)
        self._emit("checkout.session.completed", session)
        return session

    def create_portal_session(self, params: Mapping[str, Any]) -> Obj:
        customer_id = _required(params, "customer")
        self._customer(customer_id)
        portal_id = self._fresh_id("bps_")
        portal: Obj = {
            "id": portal_id,
            "object": "billing_portal.session",
            "configuration": "bpc_strata_local_emulator",
            "created": self.clock.now(),
            "customer": customer_id,
            "flow": None,
            "livemode": False,
            "locale": None,
            "on_behalf_of": None,
            "return_url": _string(params, "return_url"),
            "url": f"{self.base_url}/portal/{portal_id}",
        }
        self.portal_sessions[portal_id] = portal
        return portal

    # --- subscriptions ----------------------------------------------------------

    def _new_subscription(
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
        now = self.clock.now()
        sub_id = self._fresh_id("sub_")
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
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": self._fresh_id("si_", 14),
                        "object": "subscription_item",
                        "created": now,
                        "current_period_end": end,
                        "current_period_start": now,
                        "discounts": [],
                        "metadata": {},
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
        self.subscriptions[sub_id] = sub
        self._clocks[sub_id] = _SubscriptionClock(anchor=anchor, cycle=cycle)
        return sub

    def _first_invoice(self, sub: Obj) -> Obj:
        item = sub["items"]["data"][0]
        price = item["price"]
        start, end = item["current_period_start"], item["current_period_end"]
        if sub["trial_end"] is not None:
            line = self._line_spec(
                sub, item, price, 0, start, end, f"Trial period for {self._name(price)}"
            )
        else:
            line = self._full_line(sub, item, price, start, end)
        return self._new_invoice(sub, [line], "subscription_create")

    def create_subscription(self, params: Mapping[str, Any]) -> Obj:
        customer = self._customer(_required(params, "customer"))
        items = _array(params, "items")
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
        price = self._price(
            _required(items[0], "price", "items[0][price]"), "items[0][price]"
        )
        quantity = _int(items[0], "quantity", "items[0][quantity]", 1) or 1
        collection = (
            _choice(
                params,
                "collection_method",
                ("charge_automatically", "send_invoice"),
                "collection_method",
            )
            or "charge_automatically"
        )
        days_until_due = _int(params, "days_until_due", minimum=1)
        if collection == "send_invoice" and days_until_due is None:
            raise StripeError(
                400,
                "Missing required param: days_until_due. It is required when "
                "collection_method is send_invoice.",
                code="parameter_missing",
                param="days_until_due",
            )
        payment_settings = _hash(params, "payment_settings")
        types = [
            str(t) for t in _array(payment_settings, "payment_method_types")
        ] or None
        trial_days = _int(params, "trial_period_days", minimum=1)
        trial_end = _int(params, "trial_end")
        if trial_days and trial_end is None:
            trial_end = self.clock.now() + trial_days * DAY
        behavior = _choice(
            params,
            "payment_behavior",
            (
                "allow_incomplete",
                "default_incomplete",
                "error_if_incomplete",
                "pending_if_incomplete",
            ),
            "payment_behavior",
        )
        if (
            behavior == "error_if_incomplete"
            and collection == "charge_automatically"
            and not trial_end
            and self._armed_for(customer["id"], None)
        ):
            self._disarm(customer["id"], None)
            raise _declined()
        sub = self._new_subscription(
            customer,
            price,
            quantity,
            merge_metadata({}, params.get("metadata"), "metadata"),
            trial_end=trial_end,
            collection_method=collection,
            days_until_due=days_until_due if collection == "send_invoice" else None,
            payment_method_types=types,
        )
        invoice = self._first_invoice(sub)
        if behavior == "default_incomplete" and invoice["amount_due"]:
            result = "open"
            sub["status"] = "incomplete"
        else:
            result = self._collect(invoice, sub)
            if result == "paid" or collection == "send_invoice":
                sub["status"] = "trialing" if trial_end else "active"
            else:
                sub["status"] = "incomplete"
        self._emit("customer.subscription.created", sub)
        self._emit_invoice_result(invoice, result)
        return sub

    def update_subscription(self, sub_id: str, params: Mapping[str, Any]) -> Obj:
        sub = self._subscription(sub_id)
        before = copy.deepcopy(sub)
        items = _array(params, "items")
        cancel = _bool(params, "cancel_at_period_end")
        behavior = _choice(
            params, "proration_behavior", PRORATION_BEHAVIORS, "proration_behavior"
        )
        payment_behavior = _choice(
            params,
            "payment_behavior",
            (
                "allow_incomplete",
                "default_incomplete",
                "error_if_incomplete",
                "pending_if_incomplete",
            ),
            "payment_behavior",
        )
        proration_date = _int(params, "proration_date")
        if sub["status"] in ("canceled", "incomplete_expired") and (
            items or cancel is not None or "trial_end" in params
        ):
            raise StripeError(
                400,
                "A canceled subscription can only update its cancellation_details "
                "and metadata.",
            )
        change: _Change | None = None
        new_price: Obj | None = None
        quantity = sub["items"]["data"][0]["quantity"]
        if items:
            new_price, quantity = self._item_change(sub, items, "items")
            change = self._plan_change(
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
            and self._armed_for(sub["customer"], sub["id"])
        ):
            self._disarm(sub["customer"], sub["id"])
            raise _declined()
        sub["metadata"] = merge_metadata(
            sub["metadata"], params.get("metadata"), "metadata"
        )
        if cancel is True and not sub["cancel_at_period_end"]:
            now = self.clock.now()
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
            invoice, result = self._apply_change(sub, change, new_price, quantity)
        self._emit_update(sub, before)
        if invoice is not None:
            self._emit_invoice_result(invoice, result)
        return sub

    def _item_change(self, sub: Obj, items: list[Any], param: str) -> tuple[Obj, int]:
        item = sub["items"]["data"][0]
        if len(items) != 1 or not isinstance(items[0], Mapping):
            raise StripeError(
                400,
                "The Stripe emulator supports one item per subscription: pass "
                f"{param}[0][id] and {param}[0][price].",
                param=param,
            )
        item_id = _string(items[0], "id", f"{param}[0][id]")
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
        price_id = _string(items[0], "price", f"{param}[0][price]")
        price = (
            item["price"]
            if price_id is None
            else self._price(price_id, f"{param}[0][price]")
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
            _int(items[0], "quantity", f"{param}[0][quantity]", 1) or item["quantity"]
        )
        return price, quantity

    def _plan_change(
        self,
        sub: Obj,
        new_price: Obj,
        quantity: int,
        behavior: str,
        proration_date: int | None,
    ) -> _Change:
        """The lines a price change makes, and whether they are invoiced now.

        Same interval: ``round(new * remaining / period) - round(old * remaining /
        period)`` over the item's period ``[start, end)`` from ``proration_date``, in
        two lines (a credit and a charge), invoiced now (``always_invoice``, with any
        pending prorations), left pending for the next invoice
        (``create_prorations``) or dropped (``none``). Another interval restarts the
        billing cycle at ``proration_date``: the new price's whole first period is
        invoiced at once, less the unused time (unless ``none``). A trialing
        subscription just changes price.
        """
        item = sub["items"]["data"][0]
        old_price = item["price"]
        start, end = item["current_period_start"], item["current_period_end"]
        t = self.clock.now() if proration_date is None else proration_date
        if not start <= t <= end:
            raise StripeError(
                400,
                f"The proration_date ({t}) must be within the subscription item's "
                f"current period ({start} to {end}).",
                param="proration_date",
            )
        pending = self._clocks[sub["id"]].pending
        if sub["status"] == "trialing":
            return _Change([], False, list(pending))
        remaining, period = max(0, end - t), max(1, end - start)
        credit = -_round(
            Fraction(old_price["unit_amount"] * item["quantity"] * remaining, period)
        )
        charge = _round(
            Fraction(new_price["unit_amount"] * quantity * remaining, period)
        )
        when = iso(t)[:10]
        old_name = self._describe(old_price, item["quantity"])
        new_name = self._describe(new_price, quantity)
        prorations = (
            []
            if remaining == 0
            else [
                self._line_spec(
                    sub,
                    item,
                    old_price,
                    credit,
                    t,
                    end,
                    f"Unused time on {old_name} after {when}",
                    proration=True,
                ),
                self._line_spec(
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
                self._full_line(sub, item, new_price, t, new_end, quantity),
            ]
            return _Change(lines, True, [], new_anchor=t)
        if old_price["id"] == new_price["id"] and quantity == item["quantity"]:
            prorations = []
        if behavior == "always_invoice":
            return _Change([*pending, *prorations], True, [])
        if behavior == "create_prorations":
            return _Change([], False, [*pending, *prorations])
        return _Change([], False, list(pending))

    def _apply_change(
        self, sub: Obj, change: _Change, new_price: Obj, quantity: int
    ) -> tuple[Obj | None, str]:
        item = sub["items"]["data"][0]
        item["price"] = copy.deepcopy(new_price)
        item["quantity"] = quantity
        clock = self._clocks[sub["id"]]
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
        invoice = self._new_invoice(sub, change.lines, "subscription_update")
        result = self._collect(invoice, sub)
        self._settle_status(sub, result)
        return invoice, result

    def cancel_subscription(self, sub_id: str) -> Obj:
        sub = self._subscription(sub_id)
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise StripeError(
                400,
                f"The subscription {sub_id} is already canceled.",
                param="id",
            )
        before = copy.deepcopy(sub)
        self._end(sub, canceled_at=self.clock.now())
        self._emit(
            "customer.subscription.deleted", sub, previous_attributes(before, sub)
        )
        return sub

    def _end(self, sub: Obj, canceled_at: int | None) -> None:
        now = self.clock.now()
        sub.update(status="canceled", ended_at=now, cancel_at_period_end=False)
        if sub["canceled_at"] is None:
            sub["canceled_at"] = canceled_at or now
        sub["cancellation_details"]["reason"] = "cancellation_requested"
        self._clocks[sub["id"]].pending = []

    def list_subscriptions(self, params: Mapping[str, Any]) -> list[Obj]:
        customer = _string(params, "customer")
        price = _string(params, "price")
        status = _choice(
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
        for sub in reversed(self.subscriptions.values()):
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

    # --- invoices ---------------------------------------------------------------

    def _name(self, price: Obj) -> str:
        product = self.products.get(price["product"])
        return str(price.get("nickname") or (product or {}).get("name") or price["id"])

    def _describe(self, price: Obj, quantity: int) -> str:
        return f"{quantity} \u00d7 {self._name(price)}"

    def _line_spec(
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
            "id": self._fresh_id("il_"),
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
                    "invoice_item": self._fresh_id("ii_") if proration else None,
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
            "taxes": [],
        }

    def _full_line(
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
        return self._line_spec(
            sub,
            item,
            price,
            unit * count,
            start,
            end,
            f"{self._describe(price, count)} "
            f"(at {_money(unit, price['currency'])} / {every})",
            quantity=count,
        )

    def _new_invoice(
        self,
        sub: Obj,
        lines: list[Obj],
        billing_reason: str,
        *,
        period: tuple[int, int] | None = None,
        preview: bool = False,
    ) -> Obj:
        now = self.clock.now()
        customer = self.customers[sub["customer"]]
        invoice_id = self._fresh_id("upcoming_in_" if preview else "in_")
        total = sum(line["amount"] for line in lines)
        due = max(0, total)
        send = sub["collection_method"] == "send_invoice"
        rendered = []
        for line in lines:
            copied = copy.deepcopy(line)
            copied["invoice"] = None if preview else invoice_id
            rendered.append(copied)
        number = None
        if not preview:
            self._invoice_count += 1
            number = f"EMU-{self._invoice_count:04d}"
        invoice: Obj = {
            "id": invoice_id,
            "object": "invoice",
            "account_country": "US",
            "account_name": "Strata (local Stripe emulator)",
            "amount_due": due,
            "amount_overpaid": 0,
            "amount_paid": 0,
            "amount_remaining": due,
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
            "description": None,
            "discounts": [],
            "due_date": now + sub["days_until_due"] * DAY
            if send and sub["days_until_due"]
            else None,
            "effective_at": None if preview else now,
            "ending_balance": None if preview else 0,
            "hosted_invoice_url": None
            if preview
            else f"{self.base_url}/invoices/{invoice_id}/pay",
            "invoice_pdf": None
            if preview
            else f"{self.base_url}/invoices/{invoice_id}.pdf",
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
            "number": number,
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
            "starting_balance": 0,
            "status": "draft" if preview else "open",
            "status_transitions": {
                "finalized_at": None if preview else now,
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
        if not preview:
            self.invoices[invoice_id] = invoice
            sub["latest_invoice"] = invoice_id
        return invoice

    def _mark_paid(self, invoice: Obj) -> None:
        now = self.clock.now()
        invoice.update(
            status="paid",
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            attempted=True,
            next_payment_attempt=None,
        )
        invoice["status_transitions"]["paid_at"] = now

    def _armed_for(self, customer_id: str, sub_id: str | None) -> str | None:
        if sub_id is not None and sub_id in self._armed:
            return self._armed[sub_id]
        return self._armed.get(customer_id)

    def _disarm(self, customer_id: str, sub_id: str | None) -> str | None:
        if sub_id is not None and sub_id in self._armed:
            return self._armed.pop(sub_id)
        return self._armed.pop(customer_id, None)

    def _collect(self, invoice: Obj, sub: Obj) -> str:
        """Try to collect ``invoice``: ``paid``, ``failed``, ``action_required``, or
        ``open`` (sent to the customer to pay by bank transfer)."""
        if invoice["amount_due"] == 0:
            self._mark_paid(invoice)
            return "paid"
        if invoice["collection_method"] == "send_invoice":
            return "open"
        invoice["attempt_count"] += 1
        invoice["attempted"] = True
        armed = self._disarm(sub["customer"], sub["id"])
        if armed is None:
            self._mark_paid(invoice)
            return "paid"
        return armed

    def _emit_invoice_result(self, invoice: Obj, result: str) -> None:
        self._emit(
            {
                "paid": "invoice.paid",
                "failed": "invoice.payment_failed",
                "action_required": "invoice.payment_action_required",
                "open": "invoice.finalized",
            }[result],
            invoice,
        )

    def _settle_status(self, sub: Obj, result: str) -> None:
        """The subscription's status once an invoice of a running one was tried."""
        if result == "paid":
            if (
                sub["status"] != "trialing"
                or sub["trial_end"] is None
                or sub["trial_end"] <= self.clock.now()
            ):
                sub["status"] = "active"
        elif result == "failed":
            sub["status"] = "past_due"
        elif sub["status"] == "trialing":
            sub["status"] = "active"

    def preview_invoice(self, params: Mapping[str, Any]) -> Obj:
        """``POST /v1/invoices/create_preview``: the invoice a subscription change
        would make (``always_invoice``, or another billing interval), else the
        subscription's next invoice with the change applied."""
        customer_id = _string(params, "customer")
        sub_id = _string(params, "subscription")
        if sub_id is None:
            raise StripeError(
                400,
                "The Stripe emulator previews invoices of existing subscriptions only: "
                "pass subscription.",
                code="parameter_missing",
                param="subscription",
            )
        sub = self._subscription(sub_id, "subscription")
        if customer_id is not None and customer_id != sub["customer"]:
            raise StripeError(
                400,
                f"The subscription {sub_id} does not belong to the customer "
                f"{customer_id}.",
                param="customer",
            )
        details = _hash(params, "subscription_details")
        items = _array(details, "items")
        behavior = (
            _choice(
                details,
                "proration_behavior",
                PRORATION_BEHAVIORS,
                "subscription_details[proration_behavior]",
            )
            or "create_prorations"
        )
        t = _int(details, "proration_date", "subscription_details[proration_date]")
        t = self.clock.now() if t is None else t
        item = sub["items"]["data"][0]
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise StripeError(
                400,
                "No upcoming invoices for a canceled subscription.",
                code="invoice_upcoming_none",
            )
        price, quantity = item["price"], item["quantity"]
        change: _Change | None = None
        if items:
            price, quantity = self._item_change(
                sub, items, "subscription_details[items]"
            )
            change = self._plan_change(sub, price, quantity, behavior, t)
        if change is not None and change.invoice_now:
            invoice = self._new_invoice(
                sub, change.lines, "subscription_update", preview=True
            )
        else:
            pending = change.keep_pending if change else self._clocks[sub["id"]].pending
            end = item["current_period_end"]
            recurring = price["recurring"]
            next_end = shift(end, recurring["interval"], recurring["interval_count"])
            lines = [
                *pending,
                self._full_line(sub, item, price, end, next_end, quantity),
            ]
            invoice = self._new_invoice(
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
        customer = _string(params, "customer")
        subscription = _string(params, "subscription")
        status = _choice(
            params,
            "status",
            ("draft", "open", "paid", "uncollectible", "void"),
            "status",
        )
        return [
            invoice
            for invoice in reversed(self.invoices.values())
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
        invoice = self.get(self.invoices, "invoice", invoice_id)
        if invoice["status"] != "open":
            return invoice
        self._mark_paid(invoice)
        self._emit("invoice.paid", invoice)
        sub_id = invoice["parent"]["subscription_details"]["subscription"]
        sub = self.subscriptions.get(sub_id)
        if sub is not None and sub["status"] in ("past_due", "unpaid", "incomplete"):
            others = [
                i
                for i in self.list_invoices({"subscription": sub_id, "status": "open"})
                if i["collection_method"] == "charge_automatically"
                or (i["due_date"] is not None and i["due_date"] <= self.clock.now())
            ]
            if not others:
                before = copy.deepcopy(sub)
                sub["status"] = "active"
                self._emit_update(sub, before)
        return invoice

    # --- time and the control endpoints -----------------------------------------

    def fail_next_payment(self, target: str, action_required: bool = False) -> None:
        if target not in self.customers and target not in self.subscriptions:
            raise missing("customer or subscription", target)
        self._armed[target] = "action_required" if action_required else "failed"

    def advance(self, seconds: int) -> int:
        """Move the clock by ``seconds`` and do, in time order, everything that
        falls due: trial-will-end notices, trial ends, renewals, cancellations at
        period end, bank-transfer invoices going overdue. Returns the event count."""
        if seconds < 0:
            raise StripeError(400, "The clock only moves forward.", param="seconds")
        first = len(self.events)
        self.clock.advance(seconds)
        self.run_due()
        return len(self.events) - first

    def run_due(self) -> None:
        target = self.clock.now()
        for _ in range(100_000):  # a bound, not a limit anyone meets
            due = self._next_due(target)
            if due is None:
                return
            at, kind, ref = due
            with self.clock.frozen(at):
                if kind == "trial_will_end":
                    self._clocks[ref].trial_will_end_sent = True
                    self._emit(
                        "customer.subscription.trial_will_end", self.subscriptions[ref]
                    )
                elif kind == "period_end":
                    self._renew(self.subscriptions[ref], reset_anchor=False)
                else:
                    self._overdue(ref)

    def _next_due(self, target: int) -> tuple[int, str, str] | None:
        due: list[tuple[int, int, str, str]] = []
        for sub_id, sub in self.subscriptions.items():
            if sub["status"] in (
                "canceled",
                "incomplete_expired",
                "paused",
                "incomplete",
            ):
                continue
            clock = self._clocks[sub_id]
            end = sub["items"]["data"][0]["current_period_end"]
            if sub["status"] == "trialing" and not clock.trial_will_end_sent:
                notice = sub["trial_end"] - TRIAL_WILL_END_BEFORE
                if sub["trial_start"] < notice <= target:
                    due.append((notice, 0, "trial_will_end", sub_id))
            if end <= target:
                due.append((end, 2, "period_end", sub_id))
        for invoice_id, invoice in self.invoices.items():
            if (
                invoice["status"] == "open"
                and invoice["due_date"] is not None
                and invoice["due_date"] <= target
                and invoice_id not in self._overdue_marked
            ):
                due.append((invoice["due_date"], 1, "overdue", invoice_id))
        if not due:
            return None
        at, _, kind, ref = min(due)
        return at, kind, ref

    def _overdue(self, invoice_id: str) -> None:
        self._overdue_marked.add(invoice_id)
        invoice = self.invoices[invoice_id]
        sub = self.subscriptions.get(
            invoice["parent"]["subscription_details"]["subscription"]
        )
        if sub is None or sub["status"] not in ("active", "trialing"):
            return
        before = copy.deepcopy(sub)
        sub["status"] = "past_due"
        self._emit_update(sub, before)

    def _renew(self, sub: Obj, *, reset_anchor: bool) -> None:
        """The end of the current period (or of the trial): cancel if asked to,
        else start the next period and invoice it."""
        before = copy.deepcopy(sub)
        if sub["cancel_at_period_end"]:
            self._end(sub, canceled_at=None)
            self._emit(
                "customer.subscription.deleted", sub, previous_attributes(before, sub)
            )
            return
        now = self.clock.now()
        clock = self._clocks[sub["id"]]
        item = sub["items"]["data"][0]
        price = item["price"]
        recurring = price["recurring"]
        old_start, old_end = item["current_period_start"], item["current_period_end"]
        if reset_anchor:
            clock.anchor, clock.cycle = now, 1
            sub["billing_cycle_anchor"] = now
            start = now
        else:
            clock.cycle += 1
            start = old_end
        end = shift(
            clock.anchor,
            recurring["interval"],
            recurring["interval_count"] * clock.cycle,
        )
        item["current_period_start"], item["current_period_end"] = start, end
        if sub["status"] == "trialing":
            sub["status"] = "active"
            if sub["trial_end"] is None or sub["trial_end"] > now:
                sub["trial_end"] = now
        lines = [*clock.pending, self._full_line(sub, item, price, start, end)]
        clock.pending = []
        invoice = self._new_invoice(
            sub, lines, "subscription_cycle", period=(old_start, min(old_end, now))
        )
        result = self._collect(invoice, sub)
        self._settle_status(sub, result)
        self._emit_update(sub, before)
        self._emit_invoice_result(invoice, result)

    def renew(self, sub_id: str) -> Obj:
        """Renew now, as if the period had just ended (the billing cycle restarts
        now); a trialing subscription's trial ends."""
        sub = self._subscription(sub_id, "subscription")
        if sub["status"] in ("canceled", "incomplete_expired", "incomplete", "paused"):
            raise StripeError(
                400,
                f"A {sub['status']} subscription does not renew.",
                param="subscription",
            )
        self._renew(sub, reset_anchor=True)
        return sub

    def trial_will_end(self, sub_id: str) -> Obj:
        sub = self._trialing(sub_id)
        self._clocks[sub_id].trial_will_end_sent = True
        self._emit("customer.subscription.trial_will_end", sub)
        return sub

    def end_trial(self, sub_id: str) -> Obj:
        sub = self._trialing(sub_id)
        self._renew(sub, reset_anchor=True)
        return sub

    def _trialing(self, sub_id: str) -> Obj:
        sub = self._subscription(sub_id, "subscription")
        if sub["status"] != "trialing":
            raise StripeError(
                400,
                f"The subscription {sub_id} is {sub['status']}, not trialing.",
                param="subscription",
            )
        return sub

    def pause(self, sub_id: str) -> Obj:
        sub = self._subscription(sub_id, "subscription")
        if sub["status"] not in ("active", "trialing", "past_due"):
            raise StripeError(
                400,
                f"A {sub['status']} subscription cannot be paused.",
                param="subscription",
            )
        before = copy.deepcopy(sub)
        sub["status"] = "paused"
        self._emit(
            "customer.subscription.paused", sub, previous_attributes(before, sub)
        )
        return sub

    def resume(self, sub_id: str) -> Obj:
        """Back to ``active``; a period that ended while paused restarts now, with
        an invoice (which an armed failure fails: ``past_due``)."""
        sub = self._subscription(sub_id, "subscription")
        if sub["status"] != "paused":
            raise StripeError(
                400, f"The subscription {sub_id} is not paused.", param="subscription"
            )
        before = copy.deepcopy(sub)
        sub["status"] = "active"
        invoice: Obj | None = None
        result = ""
        item = sub["items"]["data"][0]
        now = self.clock.now()
        if item["current_period_end"] <= now:
            clock = self._clocks[sub["id"]]
            recurring = item["price"]["recurring"]
            clock.anchor, clock.cycle = now, 1
            sub["billing_cycle_anchor"] = now
            item["current_period_start"] = now
            item["current_period_end"] = shift(
                now, recurring["interval"], recurring["interval_count"]
            )
            sub["trial_end"] = (
                sub["trial_end"]
                if sub["trial_end"] is None
                else min(sub["trial_end"], now)
            )
            lines = [
                *clock.pending,
                self._full_line(
                    sub, item, item["price"], now, item["current_period_end"]
                ),
            ]
            clock.pending = []
            invoice = self._new_invoice(sub, lines, "subscription_cycle")
            result = self._collect(invoice, sub)
            self._settle_status(sub, result)
        self._emit(
            "customer.subscription.resumed", sub, previous_attributes(before, sub)
        )
        if invoice is not None:
            self._emit_invoice_result(invoice, result)
        return sub


def _round(value: Fraction) -> int:
    return round(value)


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"


def money(amount: int, currency: str) -> str:
    return _money(amount, currency)


def _declined() -> StripeError:
    return StripeError(
        402,
        "Your card was declined.",
        type="card_error",
        code="card_declined",
        decline_code="generic_decline",
    )


def event_body(event: Obj) -> bytes:
    """An event as Stripe posts it: pretty-printed JSON."""
    return json.dumps(event, indent=2).encode()
