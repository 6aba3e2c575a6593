"""``PaymentProvider`` on ``stripe.StripeClient``.

Every write passes, as the SDK's ``idempotency_key`` request option, the key the
caller made from our own ids; the SDK sends it unchanged on each of its retries,
so a retried use case (or a retried request) cannot create or charge twice. A
second request inside one use case (finalizing the first invoice of a
bank-transfer subscription) derives its key from the caller's.

The SDK answers typed objects (``Customer``, ``Subscription``, ``Invoice``...).
Single fields are read off them; a subscription, invoice or charge becomes the
port's snapshot through ``objects``, from its ``to_dict()``, so API answers and
webhook payloads are read by one reader, strictly: a response Strata cannot read
is Stripe failing, so it becomes ``PaymentProviderUnavailable`` with the parse
error chained. The SDK's errors
become ours through ``client.translate``.

Retry budget: each call is one ``request_with_retries`` of ``http`` (see
``Urllib3HttpClient``): up to ``max_retries`` + 1 attempts (3 by default), a GET
reading for 6 s, a write for 10 s, a 2 s connect, the SDK's backoff between
(0.5 s, then 1 s, jittered), all cut to a 12 s deadline, so one call never
takes longer than 12 s, and the most calls an endpoint makes (two, checkout's)
end inside the 28 s of the functions that call Stripe
(``functions.resources.STRIPE_FUNCTION_TIMEOUT_SECONDS``), leaving 4 s for the
rest of the request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import stripe

from core.adapters.stripe.client import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    StripeRequestRejected,
    build_stripe_client,
    call,
)
from core.adapters.stripe.http import Pool, Urllib3HttpClient
from core.adapters.stripe.objects import (
    MalformedStripeObject,
    parse_charge,
    parse_invoice,
    parse_subscription,
)
from core.application.errors import CustomerMissing, PaymentProviderUnavailable
from core.application.ports import (
    ChargeSnapshot,
    InvoicePage,
    InvoiceSnapshot,
    ProrationPreview,
    SeatChange,
    SubscriptionPage,
    SubscriptionSnapshot,
)

if TYPE_CHECKING:
    # Types only: importing stripe.params costs time at cold start.
    from stripe.params import (
        InvoiceListParams,
        SubscriptionCancelParams,
        SubscriptionListParams,
        SubscriptionUpdateParams,
    )
    from stripe.params.checkout import (
        SessionCreateParams,
        SessionCreateParamsSubscriptionData,
    )

T = TypeVar("T")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _id(stripe_id: str) -> str:
    # The SDK quotes ids into the path itself; an empty one would reach the list.
    if not stripe_id:
        raise ValueError("a Stripe id is empty")
    return stripe_id


def _key(idempotency_key: str) -> stripe.RequestOptions:
    if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise ValueError("an idempotency key is 1 to 255 characters")
    if not idempotency_key.isascii() or not idempotency_key.isprintable():
        raise ValueError("an idempotency key is printable ASCII")
    return {"idempotency_key": idempotency_key}


def _item(item_id: str, price_id: str, quantity: int | None) -> Any:
    """The subscription item of a price change (the SDK types it once for an
    update and once for a preview: both take this shape)."""
    if quantity is None:
        return {"id": item_id, "price": price_id}
    if quantity < 1:
        raise ValueError("a subscription item has at least one unit")
    return {"id": item_id, "price": price_id, "quantity": quantity}


def build_payment_provider(
    api_key: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    now: Callable[[], datetime] = _utc_now,
    read_timeout: float | None = None,
    max_retries: int = DEFAULT_MAX_RETRIES,
    pool: Pool | None = None,
) -> StripePaymentProvider:
    """The provider the composition root (and tests) use: the SDK's client on
    urllib3 over ``pool`` (a ``PoolManager`` made by the first request if None;
    tests hand in one that answers in-process). Opens nothing."""
    http = (
        Urllib3HttpClient(pool=pool)
        if read_timeout is None
        else Urllib3HttpClient(pool=pool, read_timeout=read_timeout)
    )
    client = build_stripe_client(
        api_key, base_url=base_url, max_retries=max_retries, http_client=http
    )
    return StripePaymentProvider(client, now=now)


class StripePaymentProvider:
    """Strata's calls to Stripe, through the SDK's ``StripeClient``.

    ``now`` is the time used as the proration date when a preview is asked for
    without one: pass the application clock's ``now``, so that in the local stack
    (where the emulator's time can be advanced) both agree. ``token`` makes the
    random suffix of the keys for the two POSTs the port gives no key for (the
    portal session and the preview).
    """

    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        now: Callable[[], datetime] = _utc_now,
        token: Callable[[], str] = lambda: secrets.token_hex(8),
    ) -> None:
        self._v1 = client.v1
        self._now = now
        self._token = token

    def create_customer(self, user_id: str, email: str, *, idempotency_key: str) -> str:
        customer = call(
            lambda: self._v1.customers.create(
                {"email": email, "metadata": {"user_id": user_id}},
                _key(idempotency_key),
            )
        )
        return _read(lambda: _text(customer, "id", "customer"))

    def create_checkout(
        self,
        *,
        customer_id: str,
        price_id: str,
        user_id: str,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
        trial_days: int = 0,
    ) -> str:
        """As the port; ``trial_days`` > 0 starts the subscription with a free
        trial of that many days (Stripe's ``trial_period_days``)."""
        return self._checkout(
            customer_id=customer_id,
            price_id=price_id,
            quantity=1,
            owner={"user_id": user_id},
            client_reference_id=user_id,
            success_url=success_url,
            cancel_url=cancel_url,
            idempotency_key=idempotency_key,
            trial_days=trial_days,
        )

    def create_seat_checkout(
        self,
        *,
        customer_id: str,
        price_id: str,
        org_id: str,
        quantity: int,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
        trial_days: int = 0,
    ) -> str:
        """As the port: ``quantity`` seats, the organization in the metadata of
        the session and of the subscription it makes."""
        if quantity < 1:
            raise ValueError("a seat checkout is for at least one seat")
        return self._checkout(
            customer_id=customer_id,
            price_id=price_id,
            quantity=quantity,
            owner={"org_id": org_id},
            client_reference_id=None,
            success_url=success_url,
            cancel_url=cancel_url,
            idempotency_key=idempotency_key,
            trial_days=trial_days,
        )

    def _checkout(
        self,
        *,
        customer_id: str,
        price_id: str,
        quantity: int,
        owner: dict[str, str],
        client_reference_id: str | None,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
        trial_days: int,
    ) -> str:
        if trial_days < 0:
            raise ValueError("trial_days is not negative")
        subscription_data: SessionCreateParamsSubscriptionData = {
            "metadata": dict(owner)
        }
        if trial_days:
            subscription_data["trial_period_days"] = trial_days
        options = _key(idempotency_key)
        # The order of the parameters is the order of the form Stripe gets: a
        # person's checkout sends exactly what it sent before seats existed.
        params: SessionCreateParams = {
            "mode": "subscription",
            "customer": customer_id,
            "line_items": [{"price": price_id, "quantity": quantity}],
        }
        if client_reference_id is not None:
            params["client_reference_id"] = client_reference_id
        params["metadata"] = dict(owner)
        params["subscription_data"] = subscription_data
        params["success_url"] = success_url
        params["cancel_url"] = cancel_url
        session = _for_customer(
            lambda: self._v1.checkout.sessions.create(params, options)
        )
        return _read(lambda: _text(session, "url", "checkout.session"))

    def create_invoiced_subscription(
        self,
        *,
        customer_id: str,
        price_id: str,
        user_id: str,
        days_until_due: int,
        idempotency_key: str,
    ) -> str:
        options = _key(idempotency_key)
        subscription = _for_customer(
            lambda: self._v1.subscriptions.create(
                {
                    "customer": customer_id,
                    "items": [{"price": price_id}],
                    "collection_method": "send_invoice",
                    "days_until_due": days_until_due,
                    "payment_settings": {"payment_method_types": ["customer_balance"]},
                    "metadata": {"user_id": user_id},
                    "expand": ["latest_invoice"],
                },
                options,
            )
        )
        invoice = getattr(subscription, "latest_invoice", None)
        if not isinstance(invoice, stripe.Invoice):
            raise PaymentProviderUnavailable() from MalformedStripeObject(
                "subscription.latest_invoice is not expanded"
            )
        if getattr(invoice, "status", None) == "draft":
            # Stripe keeps a send_invoice subscription's first invoice a draft
            # for about an hour, and a draft has no hosted page: finalize it now.
            invoice = self._finalize(invoice, idempotency_key)
        return _read(lambda: _text(invoice, "hosted_invoice_url", "invoice"))

    def _finalize(self, draft: stripe.Invoice, idempotency_key: str) -> stripe.Invoice:
        invoice_id = _read(lambda: _text(draft, "id", "invoice"))
        options = _key(_derived_key(idempotency_key, "finalize"))
        try:
            return call(
                lambda: self._v1.invoices.finalize_invoice(invoice_id, None, options)
            )
        except StripeRequestRejected:
            # Stripe's own hourly finalization got there first (a use case
            # retried late): the invoice is open, which is all we wanted.
            invoice = call(lambda: self._v1.invoices.retrieve(invoice_id))
            if getattr(invoice, "status", None) == "draft":
                raise
            return invoice

    def create_portal(self, customer_id: str, return_url: str) -> str:
        # The port gives no key (opening the portal twice is harmless); one made
        # here still lets the SDK's retries replay rather than repeat.
        options = _key(f"portal-{customer_id}-{self._token()}")
        session = call(
            lambda: self._v1.billing_portal.sessions.create(
                {"customer": customer_id, "return_url": return_url}, options
            )
        )
        return _read(lambda: _text(session, "url", "billing_portal.session"))

    def get_subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        # The latest invoice says whether a bank-transfer subscription was paid.
        data = call(
            lambda: self._v1.subscriptions.retrieve(
                _id(subscription_id), {"expand": ["latest_invoice"]}
            )
        )
        return _read(lambda: parse_subscription(data.to_dict()))

    def preview_change(
        self,
        subscription: SubscriptionSnapshot,
        price_id: str,
        *,
        proration_behavior: str,
        proration_date: int | None,
        quantity: int | None = None,
    ) -> ProrationPreview:
        """What moving ``subscription`` to ``price_id`` invoices now. Without a
        ``proration_date`` the preview is made at ``now()``, and the returned
        ``proration_date`` says which: pass it to ``change_price`` to be charged
        exactly ``amount_due``."""
        date = (
            int(self._now().timestamp()) if proration_date is None else proration_date
        )
        # create_preview only reads; the key (fresh per call, so a later preview
        # is never answered with an earlier one's replay) keeps the SDK's retries
        # of it one request.
        options = _key(f"preview-{subscription.id}-{self._token()}")
        invoice = call(
            lambda: self._v1.invoices.create_preview(
                {
                    "customer": subscription.customer_id,
                    "subscription": subscription.id,
                    "subscription_details": {
                        "items": [_item(subscription.item_id, price_id, quantity)],
                        "proration_behavior": _proration(proration_behavior),
                        "proration_date": date,
                    },
                },
                options,
            )
        )

        def preview() -> ProrationPreview:
            amount = getattr(invoice, "amount_due", None)
            if not isinstance(amount, int) or isinstance(amount, bool):
                raise MalformedStripeObject("invoice.amount_due is not an integer")
            currency = _text(invoice, "currency", "invoice").lower()
            return ProrationPreview(
                amount_due=amount, currency=currency, proration_date=date
            )

        return _read(preview)

    def change_price(
        self,
        subscription: SubscriptionSnapshot,
        price_id: str,
        *,
        proration_behavior: str,
        proration_date: int | None,
        idempotency_key: str,
        quantity: int | None = None,
    ) -> SubscriptionSnapshot:
        params: SubscriptionUpdateParams = {
            # Naming the item's id replaces its price; without it Stripe would
            # add a second item.
            "items": [_item(subscription.item_id, price_id, quantity)],
            "proration_behavior": _proration(proration_behavior),
            "expand": ["latest_invoice"],
        }
        if proration_date is not None:
            params["proration_date"] = proration_date
        if proration_behavior == "always_invoice":
            # A change invoiced at once applies only if that invoice is paid;
            # otherwise Stripe holds it in ``pending_update``.
            params["payment_behavior"] = "pending_if_incomplete"
        options = _key(idempotency_key)
        data = call(
            lambda: self._v1.subscriptions.update(_id(subscription.id), params, options)
        )
        return _read(lambda: parse_subscription(data.to_dict()))

    def set_cancel_at_period_end(
        self, subscription_id: str, cancel: bool, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        options = _key(idempotency_key)
        data = call(
            lambda: self._v1.subscriptions.update(
                _id(subscription_id), {"cancel_at_period_end": cancel}, options
            )
        )
        return _read(lambda: parse_subscription(data.to_dict()))

    def set_seat_quantity(
        self,
        subscription_id: str,
        quantity: int,
        *,
        proration_behavior: str,
        idempotency_key: str,
    ) -> SeatChange:
        """As the port, in two requests: a read of the subscription for its
        item's id (naming the item changes its quantity; without it Stripe would
        add a second item), then the update under the caller's key.

        Which invoice the change made is read from the update's answer alone, so
        a replayed answer names the same one: the update also writes the key into
        the subscription's ``metadata.seat_change``, and the invoice Stripe makes
        at once for it (``always_invoice``) carries a snapshot of that metadata
        (``parent.subscription_details.metadata``). A ``latest_invoice`` without
        this key is an older invoice: the change made none. No
        ``payment_behavior`` is sent (Stripe's ``allow_incomplete``): the seats
        follow the members even when the card fails, and the open invoice runs
        the usual dunning instead of holding the quantity back."""
        if quantity < 1:
            raise ValueError("a per-seat subscription has at least one seat")
        options = _key(idempotency_key)
        current = call(lambda: self._v1.subscriptions.retrieve(_id(subscription_id)))
        item_id = _read(lambda: parse_subscription(current.to_dict()).item_id)
        params: SubscriptionUpdateParams = {
            "items": [{"id": item_id, "quantity": quantity}],
            "proration_behavior": _proration(proration_behavior),
            "metadata": {_SEAT_CHANGE: idempotency_key},
            "expand": ["latest_invoice"],
        }
        data = call(
            lambda: self._v1.subscriptions.update(_id(subscription_id), params, options)
        )

        def change() -> SeatChange:
            raw = data.to_dict()
            snapshot = parse_subscription(raw)
            return SeatChange(
                subscription=snapshot,
                quantity=snapshot.quantity,
                invoice_id=_invoice_of_change(raw, idempotency_key),
            )

        return _read(change)

    def cancel_now(
        self, subscription_id: str, *, idempotency_key: str, credit: bool = True
    ) -> SubscriptionSnapshot:
        """``DELETE /v1/subscriptions/{id}``: prorated, with a final invoice now, so
        the unused time becomes a credit on the customer's balance (unless
        ``credit`` is off: then neither)."""
        params: SubscriptionCancelParams = (
            {"prorate": True, "invoice_now": True} if credit else {}
        )
        options = _key(idempotency_key)
        data = call(
            lambda: self._v1.subscriptions.cancel(_id(subscription_id), params, options)
        )
        return _read(lambda: parse_subscription(data.to_dict()))

    def get_charge(self, charge_id: str) -> ChargeSnapshot:
        data = call(lambda: self._v1.charges.retrieve(_id(charge_id)))
        return _read(lambda: parse_charge(data.to_dict()))

    def list_invoices(
        self, customer_id: str, limit: int, starting_after: str | None
    ) -> InvoicePage:
        """One page, newest first (Stripe's order); ``next_after`` is the last
        invoice's id when Stripe says more follow. (The port pages, with a cursor
        the API's client holds, so this reads one ``ListObject`` rather than
        ``auto_paging_iter``.)"""
        params: InvoiceListParams = {"customer": customer_id, "limit": limit}
        if starting_after is not None:
            params["starting_after"] = starting_after
        data = call(lambda: self._v1.invoices.list(params))

        def page() -> InvoicePage:
            items: list[InvoiceSnapshot] = [
                parse_invoice(row.to_dict()) for row in data.data
            ]
            return InvoicePage(
                items=items,
                next_after=items[-1].id if data.has_more and items else None,
            )

        return _read(page)

    def list_subscriptions(
        self, limit: int, starting_after: str | None
    ) -> SubscriptionPage:
        """``GET /v1/subscriptions`` without a status: every one not canceled. One
        page, as the port asks (the reconciliation job keeps the cursor)."""
        params: SubscriptionListParams = {"limit": limit}
        if starting_after is not None:
            params["starting_after"] = starting_after
        data = call(lambda: self._v1.subscriptions.list(params))

        def page() -> SubscriptionPage:
            items = [parse_subscription(row.to_dict()) for row in data.data]
            return SubscriptionPage(
                items=items,
                next_after=items[-1].id if data.has_more and items else None,
            )

        return _read(page)


# The subscription metadata key naming the last seat change (its idempotency key).
_SEAT_CHANGE = "seat_change"


def _invoice_of_change(subscription: dict[str, Any], key: str) -> str | None:
    """The id of the expanded ``latest_invoice`` if the seat change under ``key``
    made it (its snapshot of the subscription's metadata names the key)."""
    invoice = subscription.get("latest_invoice")
    if not isinstance(invoice, dict):
        return None
    parent = invoice.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    metadata = details.get("metadata") if isinstance(details, dict) else None
    if not isinstance(metadata, dict) or metadata.get(_SEAT_CHANGE) != key:
        return None
    invoice_id = invoice.get("id")
    if not isinstance(invoice_id, str) or not invoice_id:
        raise MalformedStripeObject("subscription.latest_invoice.id is missing")
    return invoice_id


def _proration(behavior: str) -> Any:
    # The SDK types it as a Literal; the application passes one of its values.
    if behavior not in ("always_invoice", "create_prorations", "none"):
        raise ValueError(f"unknown proration behaviour {behavior!r}")
    return behavior


def _for_customer(request: Callable[[], T]) -> T:
    """A request naming a customer: ``CustomerMissing`` if Stripe has no such
    customer any more (``resource_missing`` on ``customer``)."""
    try:
        return call(request)
    except StripeRequestRejected as exc:
        if exc.stripe_code == "resource_missing" and exc.param == "customer":
            raise CustomerMissing(str(exc)) from exc
        raise


def _derived_key(idempotency_key: str, step: str) -> str:
    """A key for a second request of the same use case: stable across retries,
    within Stripe's 255 characters."""
    key = f"{idempotency_key}-{step}"
    if len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        return key
    return f"{hashlib.sha256(idempotency_key.encode()).hexdigest()}-{step}"


def _text(obj: stripe.StripeObject, key: str, where: str) -> str:
    """A typed object's string field; missing or empty is malformed (the SDK
    raises AttributeError for a field the answer lacked)."""
    value = getattr(obj, key, None)
    if not isinstance(value, str) or not value:
        raise MalformedStripeObject(f"{where}.{key} is missing")
    return value


def _read(parse: Callable[[], T]) -> T:
    """Run ``parse`` over a Stripe response; a shape we cannot read is Stripe
    failing us, not the caller's fault."""
    try:
        return parse()
    except MalformedStripeObject as exc:
        raise PaymentProviderUnavailable() from exc
