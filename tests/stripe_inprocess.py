"""Stripe for unit and function tests: Strata's own Stripe adapter talking to the
Stripe emulator in-process (``stripe_emulator.inprocess``), so the tests exercise
the one model of Stripe that ``make dev`` and the end-to-end tests use over HTTP.

    stripe = emulated_stripe(clock, catalog)
    stripe.provider      the real ``StripePaymentProvider`` (a ``PaymentProvider``)
    stripe.verifier      the real ``StripeWebhookVerifier`` (a ``WebhookVerifier``)
    stripe.emulator      the emulator, for what a test reads or arranges at Stripe

The emulator's time is the test's ``FakeClock``. The rest of ``EmulatedStripe``
reads the emulator's state in the port's terms (``subscriptions``, ``checkouts``,
``invoices_of``), arranges what someone else did at Stripe (``add_subscription``,
``update_subscription``, ``add_invoice``), and records what the adapter asked
(``calls``, by port operation, and ``idempotency_keys``).

This is the only module that knows how the adapter is built over the emulator:
when the adapter changes, only ``emulated_stripe`` changes.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from urllib3 import HTTPHeaderDict

from core.adapters.stripe.client import API_VERSION
from core.adapters.stripe.http import Pool
from core.adapters.stripe.objects import (
    parse_checkout_session,
    parse_event,
    parse_invoice,
    parse_subscription,
)
from core.adapters.stripe.provider import (
    StripePaymentProvider,
    build_payment_provider,
)
from core.adapters.stripe.webhooks import StripeWebhookVerifier
from core.application.billing import HANDLED_EVENTS
from core.application.ports import (
    BillingEvent,
    ChargeSnapshot,
    CheckoutSnapshot,
    InvoiceSnapshot,
    SubscriptionSnapshot,
)
from core.domain.billing import PlanCatalog
from stripe_emulator import encode_form, parse_form, signature_header
from stripe_emulator.charges import new_charge
from stripe_emulator.inprocess import InProcessPool, InProcessResponse, in_process
from stripe_emulator.params import Obj
from stripe_emulator.server import Emulator
from tests.fakes import FakeClock

API_KEY = "sk_test_in_process"
WEBHOOK_SECRET = "whsec_in_process_tests"

# The request an adapter call sends, by the port operation it serves.
_OPERATIONS = {
    ("POST", "/v1/customers"): "create_customer",
    ("POST", "/v1/checkout/sessions"): "create_checkout",
    ("POST", "/v1/subscriptions"): "create_invoiced_subscription",
    ("POST", "/v1/invoices/{id}/finalize"): "create_invoiced_subscription",
    ("POST", "/v1/billing_portal/sessions"): "create_portal",
    ("GET", "/v1/subscriptions/{id}"): "get_subscription",
    ("POST", "/v1/invoices/create_preview"): "preview_change",
    ("DELETE", "/v1/subscriptions/{id}"): "cancel_now",
    ("GET", "/v1/charges/{id}"): "get_charge",
    ("GET", "/v1/invoices"): "list_invoices",
    ("GET", "/v1/subscriptions"): "list_subscriptions",
}


@dataclass(frozen=True, slots=True)
class Sent:
    """One request the adapter sent: the port operation it serves, its form
    parameters (flat, as sent) and its idempotency key."""

    operation: str
    method: str
    path: str
    params: dict[str, str]
    idempotency_key: str | None


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """A Checkout Session at the emulator, with what it was made from."""

    id: str
    url: str
    customer_id: str
    price_id: str
    # None for an organization's checkout (no client_reference_id).
    user_id: str | None
    success_url: str
    cancel_url: str
    idempotency_key: str
    trial_days: int
    quantity: int = 1
    # Set for an organization's checkout (its metadata's org_id).
    org_id: str | None = None


@dataclass(frozen=True, slots=True)
class InvoicedRequest:
    """A subscription paid by bank transfer at the emulator, with its first
    invoice's page and what it was made from."""

    subscription_id: str
    invoice_url: str
    customer_id: str
    price_id: str
    user_id: str
    days_until_due: int
    idempotency_key: str


def _route(method: str, path: str, params: Mapping[str, str]) -> str:
    parts = path.strip("/").split("/")
    shape = "/" + "/".join(
        p if i < 2 or p in ("sessions", "create_preview", "finalize") else "{id}"
        for i, p in enumerate(parts)
    )
    if (method, shape) == ("POST", "/v1/subscriptions/{id}"):
        if "items[0][price]" in params:
            return "change_price"
        if "items[0][quantity]" in params:
            return "set_seat_quantity"
        return "set_cancel_at_period_end"
    return _OPERATIONS.get((method, shape), f"{method} {shape}")


class _RecordingPool:
    """The in-process pool, recording what is sent, and answering 503 for the
    operations told to fail (Stripe down) without reaching the emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self._inner = InProcessPool(emulator)
        self.sent: list[Sent] = []
        self.failing: frozenset[str] | None = None

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> InProcessResponse:
        parts = urlsplit(url)
        text = body.decode() if isinstance(body, bytes) else body
        params = dict(parse_qsl(text if text else parts.query, keep_blank_values=True))
        operation = _route(method, parts.path, params)
        key = (headers or {}).get("Idempotency-Key")
        self.sent.append(Sent(operation, method, parts.path, params, key))
        if self.failing is not None and (not self.failing or operation in self.failing):
            error = {"error": {"type": "api_error", "message": "Stripe is down."}}
            answer = HTTPHeaderDict({"Content-Type": "application/json"})
            return InProcessResponse(503, json.dumps(error).encode(), answer)
        return self._inner.request(method, url, body=body, headers=headers, **kwargs)


@dataclass
class EmulatedStripe:
    emulator: Emulator
    provider: StripePaymentProvider
    verifier: StripeWebhookVerifier
    clock: FakeClock
    _pool: _RecordingPool = field(repr=False)

    # -- what the adapter sent --------------------------------------------------------

    @property
    def sent(self) -> list[Sent]:
        return list(self._pool.sent)

    @property
    def calls(self) -> Counter[str]:
        """Requests sent since ``reset_counts``, by the port operation they serve."""
        return Counter(s.operation for s in self._pool.sent)

    @property
    def idempotency_keys(self) -> list[str]:
        """The idempotency key of every write sent since ``reset_counts``, in
        order (the preview's and the portal's own keys left out: the port gives
        none for them)."""
        return [
            s.idempotency_key
            for s in self._pool.sent
            if s.idempotency_key is not None
            and s.operation not in ("preview_change", "create_portal")
        ]

    @property
    def cancel_credits(self) -> list[bool]:
        """For each cancellation sent, whether it asked for the unused time as a
        credit (``prorate`` with a final invoice now)."""
        return [
            s.params.get("prorate") == "true" and s.params.get("invoice_now") == "true"
            for s in self._pool.sent
            if s.operation == "cancel_now"
        ]

    def reset_counts(self) -> None:
        self._pool.sent.clear()

    def fail(self, *operations: str) -> None:
        """Stripe answers 503 to the named port operations (every one if none is
        named) until ``recover``."""
        self._pool.failing = frozenset(operations)

    def recover(self) -> None:
        self._pool.failing = None

    # -- the emulator's state, in the port's terms ------------------------------------

    @property
    def customers(self) -> dict[str, Obj]:
        return self.emulator.state.customers

    @property
    def subscriptions(self) -> dict[str, SubscriptionSnapshot]:
        return {
            sub_id: self.subscription(sub_id)
            for sub_id in self.emulator.state.subscriptions
        }

    def subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        sub = copy.deepcopy(self.emulator.state.subscriptions[subscription_id])
        latest = sub.get("latest_invoice")
        if isinstance(latest, str):
            sub["latest_invoice"] = self.emulator.state.invoices.get(latest)
        return parse_subscription(sub)

    def period_of(self, subscription_id: str) -> tuple[int, int]:
        """The subscription's current period, in epoch seconds."""
        item = self.emulator.state.subscriptions[subscription_id]["items"]["data"][0]
        return int(item["current_period_start"]), int(item["current_period_end"])

    @property
    def checkouts(self) -> list[CheckoutRequest]:
        state = self.emulator.state
        made = []
        for session in state.sessions.values():
            setup = state.store.session_setup[session["id"]]
            made.append(
                CheckoutRequest(
                    id=session["id"],
                    url=session["url"],
                    customer_id=session["customer"],
                    price_id=setup["price"],
                    user_id=session["client_reference_id"],
                    success_url=session["success_url"],
                    cancel_url=session["cancel_url"],
                    idempotency_key=self._key_of(session["id"]),
                    trial_days=setup["trial_days"] or 0,
                    quantity=setup["quantity"],
                    org_id=session["metadata"].get("org_id"),
                )
            )
        return made

    @property
    def invoiced(self) -> list[InvoicedRequest]:
        state = self.emulator.state
        return [
            InvoicedRequest(
                subscription_id=sub["id"],
                invoice_url=state.invoices[sub["latest_invoice"]]["hosted_invoice_url"],
                customer_id=sub["customer"],
                price_id=sub["items"]["data"][0]["price"]["id"],
                user_id=sub["metadata"].get("user_id"),
                days_until_due=sub["days_until_due"],
                idempotency_key=self._key_of(sub["id"]),
            )
            for sub in state.subscriptions.values()
            if sub["collection_method"] == "send_invoice"
        ]

    @property
    def portals(self) -> list[tuple[str, str]]:
        """(customer, return URL) of every portal session, oldest first."""
        return [
            (p["customer"], p["return_url"])
            for p in self.emulator.state.portal_sessions.values()
        ]

    def invoices_of(self, customer_id: str) -> list[InvoiceSnapshot]:
        """The customer's invoices, oldest first."""
        return [
            parse_invoice(i)
            for i in self.emulator.state.invoices.values()
            if i["customer"] == customer_id
        ]

    def _key_of(self, object_id: str) -> str:
        """The idempotency key of the request that made ``object_id``."""
        for key, stored in self.emulator.idempotency.items():
            answer = json.loads(stored.response.body)
            if isinstance(answer, dict) and answer.get("id") == object_id:
                return key
        raise LookupError(f"no idempotent request made {object_id}")

    # -- what happens at Stripe without Strata asking ---------------------------------

    def _form(self, params: Mapping[str, object]) -> dict[str, Any]:
        return parse_form(encode_form(params))

    def add_subscription(
        self,
        customer_id: str,
        price_id: str,
        *,
        status: str = "active",
        user_id: str | None = None,
        trial_end: datetime | None = None,
        collection_method: str = "charge_automatically",
    ) -> SubscriptionSnapshot:
        """A subscription made at Stripe (as a completed checkout makes it, its
        first invoice paid; by bank transfer, ``send_invoice``, that invoice is
        left open), then put in ``status``; ``trialing`` has a 14-day trial
        unless ``trial_end`` says otherwise."""
        if status == "trialing" and trial_end is None:
            trial_end = self.clock.now() + timedelta(days=14)
        params: dict[str, object] = {
            "customer": customer_id,
            "items": [{"price": price_id}],
            "metadata": {"user_id": user_id} if user_id else None,
            "trial_end": int(trial_end.timestamp()) if trial_end else None,
            "collection_method": collection_method,
            "days_until_due": 14 if collection_method == "send_invoice" else None,
        }
        sub = self.emulator.state.create_subscription(self._form(params))
        sub["status"] = status
        return self.subscription(sub["id"])

    def update_subscription(
        self, subscription_id: str, **changes: Any
    ) -> SubscriptionSnapshot:
        """A change made at Stripe by someone else (a renewal, a failed payment,
        the Customer Portal), named by the snapshot's fields."""
        sub = self.emulator.state.subscriptions[subscription_id]
        item = sub["items"]["data"][0]
        for name, value in changes.items():
            if name == "price_id":
                item["price"] = copy.deepcopy(self.emulator.state.prices[value])
            elif name == "current_period_end":
                item["current_period_end"] = int(value.timestamp())
            elif name == "trial_end":
                sub["trial_end"] = None if value is None else int(value.timestamp())
            elif name == "user_id":
                sub["metadata"] = {**sub["metadata"], "user_id": value}
            elif name == "customer_id":
                sub["customer"] = value
            elif name in ("status", "cancel_at_period_end"):
                sub[name] = value
            else:
                raise ValueError(f"cannot change {name} at the emulator")
        return self.subscription(subscription_id)

    def forget_subscription(self, subscription_id: str) -> None:
        del self.emulator.state.subscriptions[subscription_id]

    def complete_checkout(
        self, request: CheckoutRequest
    ) -> tuple[CheckoutSnapshot, SubscriptionSnapshot]:
        """The customer paid on the Checkout page."""
        session = self.emulator.state.complete_checkout(request.id)
        return parse_checkout_session(session), self.subscription(
            session["subscription"]
        )

    def pay_checkout(self, url: str) -> SubscriptionSnapshot:
        """The customer paid on the Checkout page at ``url``; the subscription
        made."""
        session = self.emulator.state.complete_checkout(url.rsplit("/", 1)[-1])
        return self.subscription(session["subscription"])

    def add_invoice(
        self,
        customer_id: str,
        amount: int,
        *,
        status: str = "paid",
        subscription_id: str | None = None,
    ) -> InvoiceSnapshot:
        """An invoice of ``amount`` on the customer's subscription (the one named,
        else the newest), ``paid`` or left ``open``."""
        state = self.emulator.state
        if subscription_id is None:
            subscription_id = next(
                s["id"]
                for s in reversed(state.subscriptions.values())
                if s["customer"] == customer_id
            )
        sub = state.subscriptions[subscription_id]
        latest = sub["latest_invoice"]
        item = sub["items"]["data"][0]
        now = self.emulator.clock.now()
        ops = state.invoice_ops
        line = ops.lines.line_spec(sub, item, item["price"], amount, now, now, "Item")
        invoice = ops.new_invoice(sub, [line], "manual")
        sub["latest_invoice"] = latest
        if status == "paid":
            ops.payments.mark_paid(invoice)
        elif status != "open":
            invoice["status"] = status
        return parse_invoice(invoice)

    def add_charge(self, customer_id: str, amount: int) -> ChargeSnapshot:
        charge = new_charge(
            self.emulator.state.store,
            {"amount_due": amount, "currency": "usd", "customer": customer_id},
        )
        return ChargeSnapshot(
            id=charge["id"],
            customer_id=customer_id,
            amount=amount,
            amount_refunded=0,
            currency="usd",
        )

    def decline_next_payment(self, target: str) -> None:
        """The next payment of the customer or subscription fails."""
        self.emulator.state.fail_next_payment(target, False)

    # -- webhooks ---------------------------------------------------------------------

    def sign(self, event: BillingEvent) -> tuple[bytes, str]:
        """``event`` as Stripe would post it: its JSON body, and a
        ``Stripe-Signature`` made now under the verifier's secret."""
        body = json.dumps(stripe_event(event), indent=2).encode()
        read = parse_event(json.loads(body))
        # Strata reads no object of a type it does not handle.
        expected = (
            event
            if event.type in HANDLED_EVENTS
            else BillingEvent(event.id, event.type, event.created)
        )
        assert read == expected, "not renderable as Stripe JSON"
        return body, signature_header(
            WEBHOOK_SECRET, body, int(self.clock.now().timestamp())
        )

    def deliveries(self, since: int = 0) -> list[tuple[bytes, str]]:
        """The emulator's own events from the ``since``-th on, signed now."""
        from stripe_emulator.inprocess import deliveries

        return deliveries(self.emulator, since)


def stripe_adapter(
    emulator: Emulator,
    *,
    now: Callable[[], datetime],
    max_retries: int = 0,
    pool: Pool | None = None,
) -> StripePaymentProvider:
    """Strata's Stripe adapter over ``emulator`` in-process (through ``pool``, an
    ``InProcessPool`` of it unless given), as the composition root builds it."""
    return build_payment_provider(
        API_KEY,
        base_url=emulator.url,
        now=now,
        max_retries=max_retries,
        pool=pool or InProcessPool(emulator),
    )


def emulated_stripe(clock: FakeClock, catalog: PlanCatalog) -> EmulatedStripe:
    """A fresh emulator holding ``catalog``'s prices, on ``clock``'s time, and the
    adapter over it (no retries: a failure shows at once)."""
    emulator = in_process(
        [
            {
                "id": price.id,
                "interval": str(price.interval),
                "currency": price.currency,
                "unit_amount": price.unit_amount,
                "product": f"prod_strata_{plan.key}",
                "product_name": plan.name,
                "metadata": {"plan": plan.key},
            }
            for plan in catalog.plans
            for price in plan.prices
        ],
        secret=WEBHOOK_SECRET,
        clock_source=lambda: clock.now().timestamp(),
    )
    pool = _RecordingPool(emulator)
    provider = stripe_adapter(emulator, now=clock.now, pool=pool)
    verifier = StripeWebhookVerifier(
        WEBHOOK_SECRET, now=lambda: clock.now().timestamp()
    )
    return EmulatedStripe(emulator, provider, verifier, clock, pool)


# -- BillingEvent as Stripe's JSON -----------------------------------------------------


def _ts(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def stripe_subscription(s: SubscriptionSnapshot) -> Obj:
    latest: Obj | None = None
    if s.payment_url is not None or s.latest_invoice_paid:
        latest = {
            "object": "invoice",
            "status": "paid" if s.latest_invoice_paid else "open",
            "hosted_invoice_url": s.payment_url,
        }
    return {
        "id": s.id,
        "object": "subscription",
        "customer": s.customer_id,
        "status": s.status,
        "collection_method": s.collection_method,
        "cancel_at_period_end": s.cancel_at_period_end,
        "trial_end": _ts(s.trial_end),
        "metadata": {
            **({"user_id": s.user_id} if s.user_id else {}),
            **({"org_id": s.org_id} if s.org_id else {}),
        },
        "pending_update": {"subscription_items": []} if s.pending_update else None,
        "latest_invoice": latest,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": s.item_id,
                    "object": "subscription_item",
                    "price": {"id": s.price_id, "currency": s.currency},
                    "current_period_end": _ts(s.current_period_end),
                    "quantity": s.quantity,
                }
            ],
        },
    }


def stripe_invoice(i: InvoiceSnapshot) -> Obj:
    return {
        "id": i.id,
        "object": "invoice",
        "customer": i.customer_id,
        "status": i.status,
        "amount_due": i.amount_due,
        "amount_paid": i.amount_paid,
        "currency": i.currency,
        "created": _ts(i.created),
        "number": i.number,
        "hosted_invoice_url": i.hosted_invoice_url,
        "invoice_pdf": i.invoice_pdf,
        "parent": None
        if i.subscription_id is None
        else {
            "type": "subscription_details",
            "subscription_details": {"subscription": i.subscription_id},
        },
    }


def stripe_event(event: BillingEvent) -> Obj:
    """The Stripe event (API version ``API_VERSION``) that reads as ``event``."""
    obj: Obj = {}
    if event.subscription is not None:
        obj = stripe_subscription(event.subscription)
    elif event.invoice is not None:
        obj = stripe_invoice(event.invoice)
    elif event.checkout is not None:
        c = event.checkout
        obj = {
            "id": c.id,
            "object": "checkout.session",
            "customer": c.customer_id,
            "subscription": c.subscription_id,
            "client_reference_id": c.user_id,
            "metadata": {
                **({"user_id": c.user_id} if c.user_id else {}),
                **({"org_id": c.org_id} if c.org_id else {}),
            },
        }
    elif event.charge is not None:
        ch = event.charge
        obj = {
            "id": ch.id,
            "object": "charge",
            "customer": ch.customer_id,
            "amount": ch.amount,
            "amount_refunded": ch.amount_refunded,
            "currency": ch.currency,
        }
    elif event.dispute is not None:
        d = event.dispute
        obj = {
            "id": d.id,
            "object": "dispute",
            "charge": d.charge_id,
            "amount": d.amount,
            "currency": d.currency,
            "status": d.status,
        }
    elif event.customer_id is not None:
        obj = {"id": event.customer_id, "object": "customer", "deleted": True}
    return {
        "id": event.id,
        "object": "event",
        "api_version": API_VERSION,
        "created": _ts(event.created),
        "type": event.type,
        "livemode": False,
        "data": {"object": obj},
    }
