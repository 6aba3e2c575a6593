"""``PaymentProvider`` on Stripe's REST API, through ``StripeClient``.

Every write sends the idempotency key the caller made from our own ids, so a
retried use case (or a retried request inside the client) cannot create or charge
twice; a second request inside one use case (finalizing the first invoice of a
bank-transfer subscription) derives its key from the caller's. Responses are
read by ``objects``; a response Strata cannot read is
Stripe failing, so it becomes ``PaymentProviderUnavailable`` with the parse error
chained.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from core.adapters.stripe.client import (
    MAX_IDEMPOTENCY_KEY_LENGTH,
    StripeClient,
    StripeRequestRejected,
)
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
    SubscriptionPage,
    SubscriptionSnapshot,
)

T = TypeVar("T")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _segment(stripe_id: str) -> str:
    """An id as one path segment: an id holding ``/`` or ``?`` cannot reach
    another endpoint."""
    if not stripe_id:
        raise ValueError("a Stripe id is empty")
    return quote(stripe_id, safe="")


class StripePaymentProvider:
    """Strata's calls to Stripe.

    ``now`` is the time used as the proration date when a preview is asked for
    without one: pass the application clock's ``now``, so that in the local stack
    (where the emulator's time can be advanced) both agree. ``token`` makes the
    random suffix of the keys for the two POSTs the port gives no key for (the
    portal session and the preview).
    """

    def __init__(
        self,
        client: StripeClient,
        *,
        now: Callable[[], datetime] = _utc_now,
        token: Callable[[], str] = lambda: secrets.token_hex(8),
    ) -> None:
        self._client = client
        self._now = now
        self._token = token

    def create_customer(self, user_id: str, email: str, *, idempotency_key: str) -> str:
        customer = self._client.post(
            "/v1/customers",
            {"email": email, "metadata": {"user_id": user_id}},
            idempotency_key=idempotency_key,
        )
        return _read(lambda: _str_field(customer, "id", "customer"))

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
        if trial_days < 0:
            raise ValueError("trial_days is not negative")
        session = self._post_for_customer(
            "/v1/checkout/sessions",
            {
                "mode": "subscription",
                "customer": customer_id,
                "line_items": [{"price": price_id, "quantity": 1}],
                "client_reference_id": user_id,
                "metadata": {"user_id": user_id},
                "subscription_data": {
                    "metadata": {"user_id": user_id},
                    "trial_period_days": trial_days or None,
                },
                "success_url": success_url,
                "cancel_url": cancel_url,
            },
            idempotency_key=idempotency_key,
        )
        return _read(lambda: _str_field(session, "url", "checkout.session"))

    def create_invoiced_subscription(
        self,
        *,
        customer_id: str,
        price_id: str,
        user_id: str,
        days_until_due: int,
        idempotency_key: str,
    ) -> str:
        subscription = self._post_for_customer(
            "/v1/subscriptions",
            {
                "customer": customer_id,
                "items": [{"price": price_id}],
                "collection_method": "send_invoice",
                "days_until_due": days_until_due,
                "payment_settings": {"payment_method_types": ["customer_balance"]},
                "metadata": {"user_id": user_id},
                "expand": ["latest_invoice"],
            },
            idempotency_key=idempotency_key,
        )

        invoice = subscription.get("latest_invoice")
        if not isinstance(invoice, Mapping):
            raise PaymentProviderUnavailable() from MalformedStripeObject(
                "subscription.latest_invoice is not expanded"
            )
        if invoice.get("status") == "draft":
            # Stripe keeps a send_invoice subscription's first invoice a draft
            # for about an hour, and a draft has no hosted page: finalize it now.
            invoice = self._finalize(invoice, idempotency_key)
        return _read(lambda: _str_field(invoice, "hosted_invoice_url", "invoice"))

    def _post_for_customer(
        self, path: str, params: Mapping[str, Any], *, idempotency_key: str
    ) -> Mapping[str, Any]:
        """A POST naming a customer: ``CustomerMissing`` if Stripe has no such
        customer any more (``resource_missing`` on ``customer``)."""
        try:
            return self._client.post(path, params, idempotency_key=idempotency_key)
        except StripeRequestRejected as exc:
            if exc.stripe_code == "resource_missing" and exc.param == "customer":
                raise CustomerMissing(str(exc)) from exc
            raise

    def _finalize(
        self, draft: Mapping[str, Any], idempotency_key: str
    ) -> Mapping[str, Any]:
        invoice_id = _read(lambda: _str_field(draft, "id", "invoice"))
        path = f"/v1/invoices/{_segment(invoice_id)}"
        try:
            return self._client.post(
                f"{path}/finalize",
                {},
                idempotency_key=_derived_key(idempotency_key, "finalize"),
            )
        except StripeRequestRejected:
            # Stripe's own hourly finalization got there first (a use case
            # retried late): the invoice is open, which is all we wanted.
            invoice = self._client.get(path)
            if invoice.get("status") == "draft":
                raise
            return invoice

    def create_portal(self, customer_id: str, return_url: str) -> str:
        # The port gives no key (opening the portal twice is harmless); one made
        # here still lets the client's own retries replay rather than repeat.
        session = self._client.post(
            "/v1/billing_portal/sessions",
            {"customer": customer_id, "return_url": return_url},
            idempotency_key=f"portal-{customer_id}-{self._token()}",
        )
        return _read(lambda: _str_field(session, "url", "billing_portal.session"))

    def get_subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        # The latest invoice says whether a bank-transfer subscription was paid.
        data = self._client.get(
            f"/v1/subscriptions/{_segment(subscription_id)}",
            {"expand": ["latest_invoice"]},
        )
        return _read(lambda: parse_subscription(data))

    def preview_change(
        self,
        subscription: SubscriptionSnapshot,
        price_id: str,
        *,
        proration_behavior: str,
        proration_date: int | None,
    ) -> ProrationPreview:
        """What moving ``subscription`` to ``price_id`` invoices now. Without a
        ``proration_date`` the preview is made at ``now()``, and the returned
        ``proration_date`` says which: pass it to ``change_price`` to be charged
        exactly ``amount_due``."""
        if proration_date is None:
            proration_date = int(self._now().timestamp())
        # create_preview only reads; the key (fresh per call, so a later preview
        # is never answered with an earlier one's replay) just keeps the client's
        # POST contract.
        invoice = self._client.post(
            "/v1/invoices/create_preview",
            {
                "customer": subscription.customer_id,
                "subscription": subscription.id,
                "subscription_details": {
                    "items": [{"id": subscription.item_id, "price": price_id}],
                    "proration_behavior": proration_behavior,
                    "proration_date": proration_date,
                },
            },
            idempotency_key=f"preview-{subscription.id}-{self._token()}",
        )

        def preview() -> ProrationPreview:
            amount = invoice.get("amount_due")
            if not isinstance(amount, int) or isinstance(amount, bool):
                raise MalformedStripeObject("invoice.amount_due is not an integer")
            currency = _str_field(invoice, "currency", "invoice").lower()
            return ProrationPreview(
                amount_due=amount, currency=currency, proration_date=proration_date
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
    ) -> SubscriptionSnapshot:
        data = self._client.post(
            f"/v1/subscriptions/{_segment(subscription.id)}",
            {
                # Naming the item's id replaces its price; without it Stripe
                # would add a second item.
                "items": [{"id": subscription.item_id, "price": price_id}],
                "proration_behavior": proration_behavior,
                "proration_date": proration_date,
                # A change invoiced at once applies only if that invoice is paid;
                # otherwise Stripe holds it in ``pending_update``.
                "payment_behavior": (
                    "pending_if_incomplete"
                    if proration_behavior == "always_invoice"
                    else None
                ),
                "expand": ["latest_invoice"],
            },
            idempotency_key=idempotency_key,
        )
        return _read(lambda: parse_subscription(data))

    def set_cancel_at_period_end(
        self, subscription_id: str, cancel: bool, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        data = self._client.post(
            f"/v1/subscriptions/{_segment(subscription_id)}",
            {"cancel_at_period_end": cancel},
            idempotency_key=idempotency_key,
        )
        return _read(lambda: parse_subscription(data))

    def cancel_now(
        self, subscription_id: str, *, idempotency_key: str, credit: bool = True
    ) -> SubscriptionSnapshot:
        """``DELETE /v1/subscriptions/{id}``: prorated, with a final invoice now, so
        the unused time becomes a credit on the customer's balance (unless
        ``credit`` is off: then neither)."""
        data = self._client.delete(
            f"/v1/subscriptions/{_segment(subscription_id)}",
            {"prorate": True, "invoice_now": True} if credit else {},
            idempotency_key=idempotency_key,
        )
        return _read(lambda: parse_subscription(data))

    def get_charge(self, charge_id: str) -> ChargeSnapshot:
        data = self._client.get(f"/v1/charges/{_segment(charge_id)}")
        return _read(lambda: parse_charge(data))

    def list_invoices(
        self, customer_id: str, limit: int, starting_after: str | None
    ) -> InvoicePage:
        """One page, newest first (Stripe's order); ``next_after`` is the last
        invoice's id when Stripe says more follow."""
        data = self._client.get(
            "/v1/invoices",
            {"customer": customer_id, "limit": limit, "starting_after": starting_after},
        )

        def page() -> InvoicePage:
            rows = data.get("data")
            if not isinstance(rows, list):
                raise MalformedStripeObject("list.data is not a list")
            items: list[InvoiceSnapshot] = [parse_invoice(row) for row in rows]
            has_more = data.get("has_more") is True
            return InvoicePage(
                items=items,
                next_after=items[-1].id if has_more and items else None,
            )

        return _read(page)

    def list_subscriptions(
        self, limit: int, starting_after: str | None
    ) -> SubscriptionPage:
        """``GET /v1/subscriptions`` without a status: every one not canceled."""
        data = self._client.get(
            "/v1/subscriptions", {"limit": limit, "starting_after": starting_after}
        )

        def page() -> SubscriptionPage:
            rows = data.get("data")
            if not isinstance(rows, list):
                raise MalformedStripeObject("list.data is not a list")
            items = [parse_subscription(row) for row in rows]
            has_more = data.get("has_more") is True
            return SubscriptionPage(
                items=items, next_after=items[-1].id if has_more and items else None
            )

        return _read(page)


def _derived_key(idempotency_key: str, step: str) -> str:
    """A key for a second request of the same use case: stable across retries,
    within Stripe's 255 characters."""
    key = f"{idempotency_key}-{step}"
    if len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH:
        return key
    return f"{hashlib.sha256(idempotency_key.encode()).hexdigest()}-{step}"


def _str_field(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
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
