"""The emulator held to Stripe's contract: every call Strata makes to Stripe
(``core/adapters/stripe/provider.py``, and registering the webhook endpoint),
made through stripe-python at the API version it pins, answers an object of the
SDK's class with every field that version marks required, and only the values
its ``Literal``s allow; so does every webhook event the emulator sends
(``tests/stripe_contract.py`` reads the contract from the SDK's annotations)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

stripe = pytest.importorskip("stripe")

from stripe_emulator import API_VERSION, Emulator, start  # noqa: E402
from tests.stripe_contract import class_of, contract_errors  # noqa: E402

KEY = "sk_test_emulator_contract"
PRICES = [
    {"id": "price_pro", "interval": "month", "currency": "usd", "unit_amount": 1500},
    {"id": "price_biz", "interval": "month", "currency": "usd", "unit_amount": 4900},
]
DAY = 86_400


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    # No webhook URL: every event is still made, signed body and all, and kept
    # in ``bodies`` exactly as it would be posted.
    emulator = start(0, None, prices=PRICES)
    yield emulator
    emulator.stop()


@pytest.fixture
def client(emulator: Emulator) -> Any:
    return stripe.StripeClient(
        KEY,
        base_addresses={"api": emulator.url},
        stripe_version=stripe.api_version,
        max_network_retries=0,
    )


class Account:
    """Strata's calls, with the parameters provider.py sends."""

    def __init__(self, client: Any, emulator: Emulator) -> None:
        self.client = client
        self.emulator = emulator

    def customer(self) -> Any:
        return self.client.v1.customers.create(
            params={"email": "ada@example.com", "metadata": {"user_id": "u1"}},
            options={"idempotency_key": "customer-u1"},
        )

    def checkout(self, trial_days: int = 0) -> Any:
        return self.client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": self.customer().id,
                "line_items": [{"price": "price_pro", "quantity": 1}],
                "client_reference_id": "u1",
                "metadata": {"user_id": "u1"},
                "subscription_data": {
                    "metadata": {"user_id": "u1"},
                    **({"trial_period_days": trial_days} if trial_days else {}),
                },
                "success_url": "http://127.0.0.1:1/billing/success",
                "cancel_url": "http://127.0.0.1:1/billing/cancel",
            },
            options={"idempotency_key": f"checkout-u1-{trial_days}"},
        )

    def paid_checkout(self) -> Any:
        session = self.checkout()
        assert httpx.get(session.url).status_code == 303
        return self.client.v1.checkout.sessions.retrieve(session.id)

    def subscription(self) -> Any:
        return self.client.v1.subscriptions.retrieve(
            self.paid_checkout().subscription, params={"expand": ["latest_invoice"]}
        )

    def bank_transfer(self) -> Any:
        return self.client.v1.subscriptions.create(
            params={
                "customer": self.customer().id,
                "items": [{"price": "price_pro"}],
                "collection_method": "send_invoice",
                "days_until_due": 14,
                "payment_settings": {"payment_method_types": ["customer_balance"]},
                "metadata": {"user_id": "u1"},
                "expand": ["latest_invoice"],
            },
            options={"idempotency_key": "bank-u1"},
        )

    def finalize(self) -> Any:
        invoice = self.bank_transfer().latest_invoice
        return self.client.v1.invoices.finalize_invoice(
            invoice.id, options={"idempotency_key": "bank-u1-finalize"}
        )

    def change(self, *, fail: bool = False) -> Any:
        sub = self.subscription()
        if fail:
            self.control("fail-next-payment", subscription=sub.id)
        return self.client.v1.subscriptions.update(
            sub.id,
            params={
                "items": [{"id": sub["items"].data[0].id, "price": "price_biz"}],
                "proration_behavior": "always_invoice",
                "payment_behavior": "pending_if_incomplete",
                "expand": ["latest_invoice"],
            },
            options={"idempotency_key": "change-u1"},
        )

    def seat_checkout(self) -> Any:
        return self.client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": self.customer().id,
                "line_items": [{"price": "price_pro", "quantity": 3}],
                "metadata": {"org_id": "o1"},
                "subscription_data": {"metadata": {"org_id": "o1"}},
                "success_url": "http://127.0.0.1:1/billing/success",
                "cancel_url": "http://127.0.0.1:1/billing/cancel",
            },
            options={"idempotency_key": "checkout-o1"},
        )

    def seats(self, behavior: str = "always_invoice") -> Any:
        """``set_seat_quantity``: the plain read for the item, then the update."""
        session = self.seat_checkout()
        assert httpx.get(session.url).status_code == 303
        sub_id = self.client.v1.checkout.sessions.retrieve(session.id).subscription
        sub = self.client.v1.subscriptions.retrieve(sub_id)
        return self.client.v1.subscriptions.update(
            sub.id,
            params={
                "items": [{"id": sub["items"].data[0].id, "quantity": 4}],
                "proration_behavior": behavior,
                "metadata": {"seat_change": f"seats:o1:{behavior}"},
                "expand": ["latest_invoice"],
            },
            options={"idempotency_key": f"seats:o1:{behavior}"},
        )

    def preview(self) -> Any:
        sub = self.subscription()
        return self.client.v1.invoices.create_preview(
            params={
                "customer": sub.customer,
                "subscription": sub.id,
                "subscription_details": {
                    "items": [{"id": sub["items"].data[0].id, "price": "price_biz"}],
                    "proration_behavior": "always_invoice",
                    "proration_date": sub.start_date + DAY,
                },
            },
            options={"idempotency_key": "preview-u1"},
        )

    def cancel(self) -> Any:
        return self.client.v1.subscriptions.cancel(
            self.subscription().id,
            params={"prorate": True, "invoice_now": True},
            options={"idempotency_key": "cancel-u1"},
        )

    def charge(self) -> Any:
        invoice = self.subscription().latest_invoice
        charge_id = next(
            c["id"]
            for c in self.emulator.state.charges.values()
            if c["customer"] == invoice.customer
        )
        return self.client.v1.charges.retrieve(charge_id)

    def control(self, name: str, **body: Any) -> Any:
        response = httpx.post(f"{self.emulator.url}/_emulator/{name}", json=body)
        assert response.status_code == 200, response.text
        return response.json()


CALLS: dict[str, Callable[[Account], Any]] = {
    "customers.create": Account.customer,
    "checkout.sessions.create": Account.checkout,
    "checkout.sessions.retrieve, paid": Account.paid_checkout,
    "subscriptions.create, send_invoice": Account.bank_transfer,
    "invoices.finalize_invoice": Account.finalize,
    "invoices.retrieve": lambda a: a.client.v1.invoices.retrieve(
        a.bank_transfer().latest_invoice.id
    ),
    "billing_portal.sessions.create": lambda a: (
        a.client.v1.billing_portal.sessions.create(
            params={"customer": a.customer().id, "return_url": "http://x/billing"},
            options={"idempotency_key": "portal-u1"},
        )
    ),
    "subscriptions.retrieve, expanded": Account.subscription,
    "subscriptions.retrieve, trialing": lambda a: a.client.v1.subscriptions.retrieve(
        _paid(a, a.checkout(trial_days=14)).subscription,
        params={"expand": ["latest_invoice"]},
    ),
    "checkout.sessions.create, seats": Account.seat_checkout,
    "subscriptions.retrieve, seats": lambda a: a.client.v1.subscriptions.retrieve(
        _paid(a, a.seat_checkout()).subscription
    ),
    "subscriptions.update, seat quantity invoiced": Account.seats,
    "subscriptions.update, seat quantity prorated later": lambda a: a.seats(
        "create_prorations"
    ),
    "invoices.create_preview": Account.preview,
    "subscriptions.update, paid change": Account.change,
    "subscriptions.update, pending_update": lambda a: a.change(fail=True),
    "subscriptions.update, cancel_at_period_end": lambda a: (
        a.client.v1.subscriptions.update(
            a.subscription().id,
            params={"cancel_at_period_end": True},
            options={"idempotency_key": "cancel-at-end-u1"},
        )
    ),
    "subscriptions.cancel, prorated": Account.cancel,
    "charges.retrieve": Account.charge,
    "invoices.list": lambda a: a.client.v1.invoices.list(
        params={"customer": a.subscription().customer, "limit": 10}
    ),
    "subscriptions.list": lambda a: (
        a.subscription(),
        a.client.v1.subscriptions.list(params={"limit": 10}),
    )[1],
    "webhook_endpoints.create": lambda a: a.client.v1.webhook_endpoints.create(
        params={
            "url": "https://example.com/api/v1/webhooks/stripe",
            "enabled_events": ["customer.subscription.updated"],
            "api_version": stripe.api_version,
        }
    ),
}


def _paid(account: Account, session: Any) -> Any:
    assert httpx.get(session.url).status_code == 303
    return account.client.v1.checkout.sessions.retrieve(session.id)


@pytest.mark.parametrize("call", list(CALLS), ids=list(CALLS))
def test_every_answer_to_a_call_strata_makes_keeps_the_sdks_contract(
    call: str, client: Any, emulator: Emulator
) -> None:
    answer = CALLS[call](Account(client, emulator))

    # A list answers a ListObject of the resource; anything else its own class.
    expected = class_of(answer.object)
    assert type(answer) is expected
    assert contract_errors(expected, answer) == []


def test_every_webhook_event_the_emulator_sends_keeps_the_sdks_contract(
    client: Any, emulator: Emulator
) -> None:
    account = Account(client, emulator)
    sub = account.subscription()
    trial = _paid(account, account.checkout(trial_days=14)).subscription
    account.bank_transfer()
    account.seats()
    account.change(fail=True)
    account.control("advance", days=2)  # the pending update expires
    account.control("trial-will-end", subscription=trial)
    account.control("renew", subscription=sub.id)
    account.control("refund", customer=sub.customer, amount=100)
    account.control("dispute", customer=sub.customer, outcome="lost")
    account.control("pause", subscription=trial)
    account.control("resume", subscription=trial)
    account.control("fail-next-payment", subscription=sub.id)
    account.control("renew", subscription=sub.id)
    client.v1.subscriptions.cancel(
        sub.id, params={"prorate": True, "invoice_now": True}
    )
    client.v1.customers.delete(sub.customer)

    errors, types = [], set()
    for body in emulator.bodies.values():
        event = stripe.Event.construct_from(json.loads(body), KEY)
        data = event.data.object
        types.add(event.type)
        errors += contract_errors(stripe.Event, event, event.type)
        errors += contract_errors(class_of(data["object"]), data, event.type)

    assert errors == []
    assert types >= {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "customer.deleted",
        "invoice.paid",
        "invoice.finalized",
        "invoice.payment_failed",
        "invoice.voided",
        "charge.refunded",
        "charge.dispute.created",
        "charge.dispute.closed",
    }


def test_the_emulator_speaks_the_api_version_the_sdk_pins() -> None:
    assert stripe.api_version == API_VERSION


# --- the checker itself ---------------------------------------------------------------


def test_the_contract_names_each_missing_required_field_by_its_path() -> None:
    session = {"id": "cs_1", "object": "checkout.session", "automatic_tax": {}}

    errors = contract_errors(class_of("checkout.session"), session)

    assert "checkout.session.mode: missing" in errors
    assert "checkout.session.automatic_tax.enabled: missing" in errors
    assert not any(e.startswith("checkout.session.id") for e in errors)


def test_the_contract_refuses_a_value_the_pinned_version_does_not_have() -> None:
    errors = contract_errors(
        class_of("subscription"), {"status": "dormant", "billing_mode": None}
    )

    assert "subscription.status: 'dormant' is not one of" in " ".join(errors)
    assert "subscription.billing_mode: null, but the field is not nullable" in errors
