"""Strata's Stripe adapter over the emulator in-process: requests reach the
emulator through the adapter's pool with no socket, and the events they cause come
back signed as the webhook verifier checks them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.adapters.stripe.provider import StripePaymentProvider
from core.adapters.stripe.webhooks import StripeWebhookVerifier
from core.application.errors import PaymentProviderRejected
from stripe_emulator.inprocess import InProcessPool, deliveries, in_process
from stripe_emulator.server import Emulator
from tests.stripe_inprocess import stripe_adapter

PRICES = [
    {"id": "price_basic", "interval": "month", "currency": "usd", "unit_amount": 900}
]
NOW = 1_735_732_800  # 2025-01-01 12:00 UTC


@pytest.fixture
def emulator() -> Emulator:
    return in_process(PRICES, secret="whsec_x", clock_source=lambda: NOW)


@pytest.fixture
def adapter(emulator: Emulator) -> StripePaymentProvider:
    return stripe_adapter(emulator, now=lambda: datetime.fromtimestamp(NOW, UTC))


def test_the_adapters_requests_are_answered_by_the_emulator_in_process(
    emulator: Emulator, adapter: StripePaymentProvider
) -> None:
    customer_id = adapter.create_customer("u1", "a@example.com", idempotency_key="c-1")

    customer = emulator.state.customers[customer_id]
    assert (customer["email"], customer["metadata"]) == (
        "a@example.com",
        {"user_id": "u1"},
    )
    assert customer["created"] == NOW  # the emulator's clock is the one it was given
    assert emulator.port == 0  # nothing listens
    assert [r["idempotency_key"] for r in emulator.requests] == ["c-1"]


def test_the_in_process_pool_answers_stripes_errors_with_their_status_and_headers(
    emulator: Emulator, adapter: StripePaymentProvider
) -> None:
    answer = InProcessPool(emulator).request(
        "GET",
        f"{emulator.url}/v1/charges/ch_none",
        headers={"Authorization": "Bearer sk_test_k"},
    )

    assert answer.status == 404
    assert answer.headers.get("request-id", "").startswith("req_")
    with pytest.raises(PaymentProviderRejected, match="ch_none"):
        adapter.get_charge("ch_none")


def test_the_events_a_request_causes_are_handed_out_signed_for_the_verifier(
    emulator: Emulator, adapter: StripePaymentProvider
) -> None:
    customer_id = adapter.create_customer("u1", "a@example.com", idempotency_key="c-1")
    adapter.create_invoiced_subscription(
        customer_id=customer_id,
        price_id="price_basic",
        user_id="u1",
        days_until_due=14,
        idempotency_key="s-1",
    )
    verifier = StripeWebhookVerifier("whsec_x", now=lambda: NOW)

    events = [verifier.verify(body, sig) for body, sig in deliveries(emulator)]
    later = deliveries(emulator, since=len(events))

    # A bank-transfer invoice is born a draft, then the adapter finalizes it.
    assert [e.type for e in events] == [
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
    ]
    assert events[0].subscription is not None
    assert events[0].subscription.customer_id == customer_id
    assert later == []


def test_an_in_process_emulator_never_started_stops_without_error(
    emulator: Emulator,
) -> None:
    with emulator:
        pass
    assert emulator.port == 0
