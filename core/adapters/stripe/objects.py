"""Stripe JSON to the port's snapshots, for the API version the client pins.

Shared by the provider (API responses) and the webhook verifier (event payloads),
so both read one object the same way. The shapes are those of the current API
(``API_VERSION`` in ``client``):

- a subscription's billing period lives on its item
  (``items.data[0].current_period_end``); the top-level field, removed in
  2025-03-31.basil, is read only when the item lacks it;
- an invoice names its subscription under ``parent.subscription_details``; the
  old top-level ``subscription`` is read only when that is absent.

Strict where a wrong value would do harm (ids, statuses, amounts, timestamps must
be there and of the right type) and lenient about everything else: extra fields,
and new fields Stripe adds, are ignored. A malformed object raises
``MalformedStripeObject``: the webhook answers it with a 400, the provider treats
it as a provider failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from core.application.billing import HANDLED_EVENTS
from core.application.ports import (
    BillingEvent,
    ChargeSnapshot,
    CheckoutSnapshot,
    DisputeSnapshot,
    InvoiceSnapshot,
    SubscriptionSnapshot,
)

Json = Mapping[str, Any]


class MalformedStripeObject(ValueError):
    """A Stripe object lacks a field Strata needs, or has one of the wrong type.

    The message names the field (a path like ``items.data[0].price.id``) and never
    echoes the value.
    """


# -- field readers --------------------------------------------------------------------


def _mapping(value: object, where: str) -> Json:
    if not isinstance(value, Mapping):
        raise MalformedStripeObject(f"{where} is not an object")
    return value


def _field(obj: Json, key: str, where: str) -> object:
    if key not in obj:
        raise MalformedStripeObject(f"{where}.{key} is missing")
    return obj[key]


def _str(obj: Json, key: str, where: str) -> str:
    value = _field(obj, key, where)
    if not isinstance(value, str) or not value:
        raise MalformedStripeObject(f"{where}.{key} is not a non-empty string")
    return value


def _opt_str(obj: Json, key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedStripeObject(f"{where}.{key} is not a string")
    return value or None


def _int(obj: Json, key: str, where: str) -> int:
    value = _field(obj, key, where)
    # bool is an int in Python; a JSON true is never an amount or a timestamp.
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedStripeObject(f"{where}.{key} is not an integer")
    return value


def _opt_int(obj: Json, key: str, where: str) -> int | None:
    if obj.get(key) is None:
        return None
    return _int(obj, key, where)


def _bool(obj: Json, key: str, where: str, default: bool) -> bool:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise MalformedStripeObject(f"{where}.{key} is not a boolean")
    return value


def _object_kind(obj: Json, expected: str, where: str) -> None:
    # Stripe always sends ``object``; a different one means we were handed the
    # wrong thing (say, an invoice where a subscription belongs).
    kind = obj.get("object")
    if kind is not None and kind != expected:
        raise MalformedStripeObject(f"{where} is not a {expected}")


def _ref(obj: Json, key: str, where: str) -> str | None:
    """An expandable reference: an id string, or the expanded object's ``id``."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value:
        return value
    if isinstance(value, Mapping):
        return _str(value, "id", f"{where}.{key}")
    raise MalformedStripeObject(f"{where}.{key} is neither an id nor an object")


def _required_ref(obj: Json, key: str, where: str) -> str:
    ref = _ref(obj, key, where)
    if ref is None:
        raise MalformedStripeObject(f"{where}.{key} is missing")
    return ref


def timestamp(seconds: int, where: str = "timestamp") -> datetime:
    """Stripe's epoch seconds as a timezone-aware UTC datetime."""
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MalformedStripeObject(f"{where} is out of range") from None


def _opt_timestamp(obj: Json, key: str, where: str) -> datetime | None:
    seconds = _opt_int(obj, key, where)
    return None if seconds is None else timestamp(seconds, f"{where}.{key}")


def _user_id(obj: Json, where: str) -> str | None:
    return _metadata(obj, "user_id", where)


def _metadata(obj: Json, key: str, where: str) -> str | None:
    metadata = obj.get("metadata")
    if metadata is None:
        return None
    return _opt_str(_mapping(metadata, f"{where}.metadata"), key, where)


# -- objects --------------------------------------------------------------------------


def parse_subscription(obj: object) -> SubscriptionSnapshot:
    """A ``subscription`` object; Strata's have exactly one item, and the first
    item is the one read."""
    sub = _mapping(obj, "subscription")
    _object_kind(sub, "subscription", "subscription")
    items = _mapping(_field(sub, "items", "subscription"), "subscription.items")
    data = _field(items, "data", "subscription.items")
    if not isinstance(data, list) or not data:
        raise MalformedStripeObject("subscription.items.data has no item")
    item = _mapping(data[0], "subscription.items.data[0]")
    where = "subscription.items.data[0]"
    price_ref = _field(item, "price", where)
    if isinstance(price_ref, str) and price_ref:
        price: Json = {"id": price_ref}
    else:
        price = _mapping(price_ref, f"{where}.price")
    currency = _opt_str(price, "currency", f"{where}.price") or _opt_str(
        sub, "currency", "subscription"
    )
    if currency is None:
        raise MalformedStripeObject("subscription has no currency")
    # The item's period is the current API's; the top-level one only in old shapes.
    period_end = _opt_timestamp(item, "current_period_end", where)
    if period_end is None:
        period_end = _opt_timestamp(sub, "current_period_end", "subscription")
    return SubscriptionSnapshot(
        id=_str(sub, "id", "subscription"),
        customer_id=_required_ref(sub, "customer", "subscription"),
        status=_str(sub, "status", "subscription"),
        price_id=_str(price, "id", f"{where}.price"),
        item_id=_str(item, "id", where),
        currency=currency.lower(),
        current_period_end=period_end,
        cancel_at_period_end=_bool(
            sub, "cancel_at_period_end", "subscription", default=False
        ),
        trial_end=_opt_timestamp(sub, "trial_end", "subscription"),
        user_id=_user_id(sub, "subscription"),
        pending_update=sub.get("pending_update") is not None,
        payment_url=_latest_invoice_url(sub),
        collection_method=_opt_str(sub, "collection_method", "subscription")
        or "charge_automatically",
        latest_invoice_paid=isinstance(sub.get("latest_invoice"), Mapping)
        and sub["latest_invoice"].get("status") == "paid",
        quantity=_quantity(item, where),
        org_id=_metadata(sub, "org_id", "subscription"),
    )


def _quantity(item: Json, where: str) -> int:
    # Stripe leaves it out only for metered prices, which Strata never sells.
    quantity = _opt_int(item, "quantity", where)
    if quantity is None:
        return 1
    if quantity < 0:
        raise MalformedStripeObject(f"{where}.quantity is negative")
    return quantity


def _latest_invoice_url(sub: Json) -> str | None:
    invoice = sub.get("latest_invoice")
    if not isinstance(invoice, Mapping):
        return None
    return _opt_str(invoice, "hosted_invoice_url", "subscription.latest_invoice")


def _invoice_subscription_id(inv: Json) -> str | None:
    parent = inv.get("parent")
    if parent is not None:
        parent = _mapping(parent, "invoice.parent")
        details = parent.get("subscription_details")
        if details is not None:
            details = _mapping(details, "invoice.parent.subscription_details")
            ref = _ref(details, "subscription", "invoice.parent.subscription_details")
            if ref is not None:
                return ref
    # Shapes before 2025-03-31.basil kept it at the top level.
    return _ref(inv, "subscription", "invoice")


def parse_charge(obj: object) -> ChargeSnapshot:
    """A ``charge`` object."""
    charge = _mapping(obj, "charge")
    _object_kind(charge, "charge", "charge")
    return ChargeSnapshot(
        id=_str(charge, "id", "charge"),
        customer_id=_ref(charge, "customer", "charge"),
        amount=_int(charge, "amount", "charge"),
        amount_refunded=_opt_int(charge, "amount_refunded", "charge") or 0,
        currency=_str(charge, "currency", "charge").lower(),
    )


def parse_dispute(obj: object) -> DisputeSnapshot:
    """A ``dispute`` object: its charge is a reference (or expanded)."""
    dispute = _mapping(obj, "dispute")
    _object_kind(dispute, "dispute", "dispute")
    return DisputeSnapshot(
        id=_str(dispute, "id", "dispute"),
        charge_id=_required_ref(dispute, "charge", "dispute"),
        amount=_int(dispute, "amount", "dispute"),
        currency=_str(dispute, "currency", "dispute").lower(),
        status=_str(dispute, "status", "dispute"),
    )


def parse_invoice(obj: object) -> InvoiceSnapshot:
    """An ``invoice`` object (a real one, with an id: not a preview)."""
    inv = _mapping(obj, "invoice")
    _object_kind(inv, "invoice", "invoice")
    return InvoiceSnapshot(
        id=_str(inv, "id", "invoice"),
        customer_id=_required_ref(inv, "customer", "invoice"),
        status=_str(inv, "status", "invoice"),
        amount_due=_int(inv, "amount_due", "invoice"),
        amount_paid=_int(inv, "amount_paid", "invoice"),
        currency=_str(inv, "currency", "invoice").lower(),
        created=timestamp(_int(inv, "created", "invoice"), "invoice.created"),
        number=_opt_str(inv, "number", "invoice"),
        hosted_invoice_url=_opt_str(inv, "hosted_invoice_url", "invoice"),
        invoice_pdf=_opt_str(inv, "invoice_pdf", "invoice"),
        subscription_id=_invoice_subscription_id(inv),
    )


def parse_checkout_session(obj: object) -> CheckoutSnapshot:
    """A ``checkout.session``; the user is ``client_reference_id``, else the
    metadata's ``user_id`` (both are set by ``create_checkout``)."""
    session = _mapping(obj, "checkout.session")
    _object_kind(session, "checkout.session", "checkout.session")
    where = "checkout.session"
    user_id = _opt_str(session, "client_reference_id", where) or _user_id(
        session, where
    )
    return CheckoutSnapshot(
        id=_str(session, "id", where),
        customer_id=_ref(session, "customer", where),
        subscription_id=_ref(session, "subscription", where),
        user_id=user_id,
        org_id=_metadata(session, "org_id", where),
    )


# Stripe's event ids; bounded so that a hostile one never reaches a storage key.
_EVENT_ID = re.compile(r"evt_[A-Za-z0-9_]{1,250}")

# Event type prefix -> which snapshot its ``data.object`` becomes. The dot matters:
# ``invoiceitem.*`` and ``invoice_payment.*`` are other objects.
_SUBSCRIPTION_EVENTS = "customer.subscription."
_INVOICE_EVENTS = "invoice."
_CHECKOUT_EVENTS = "checkout.session."


def parse_event(obj: object) -> BillingEvent:
    """An ``event``: id, type, created, and the object for the types Strata handles
    (``HANDLED_EVENTS``); any other type keeps only id, type and created, so an
    object Strata never reads (``invoice.upcoming`` has no id) cannot fail it."""
    event = _mapping(obj, "event")
    _object_kind(event, "event", "event")
    event_type = _str(event, "type", "event")
    event_id = _str(event, "id", "event")
    if not _EVENT_ID.fullmatch(event_id):
        raise MalformedStripeObject("event.id is not a Stripe event id")
    base = BillingEvent(
        id=event_id,
        type=event_type,
        created=timestamp(_int(event, "created", "event"), "event.created"),
    )
    if event_type not in HANDLED_EVENTS:
        return base
    if event_type.startswith(_SUBSCRIPTION_EVENTS):
        return replace(base, subscription=parse_subscription(_data_object(event)))
    if event_type.startswith(_INVOICE_EVENTS):
        return replace(base, invoice=parse_invoice(_data_object(event)))
    if event_type.startswith(_CHECKOUT_EVENTS):
        return replace(base, checkout=parse_checkout_session(_data_object(event)))
    if event_type.startswith("charge.dispute."):
        return replace(base, dispute=parse_dispute(_data_object(event)))
    if event_type.startswith("charge."):
        return replace(base, charge=parse_charge(_data_object(event)))
    if event_type == "customer.deleted":
        customer = _mapping(_data_object(event), "customer")
        return replace(base, customer_id=_str(customer, "id", "customer"))
    return base


def _data_object(event: Json) -> object:
    data = _mapping(_field(event, "data", "event"), "event.data")
    return _field(data, "object", "event.data")
