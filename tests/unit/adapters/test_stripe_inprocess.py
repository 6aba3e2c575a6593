"""Strata's Stripe adapter over the emulator in-process: requests reach the
emulator through the client's pool with no socket, and the events they cause come
back signed as the webhook verifier checks them."""

from __future__ import annotations

import pytest

from core.adapters.stripe.client import StripeClient, StripeRequestRejected
from core.adapters.stripe.webhooks import StripeWebhookVerifier
from stripe_emulator.inprocess import InProcessPool, deliveries, in_process

PRICES = [
    {"id": "price_basic", "interval": "month", "currency": "usd", "unit_amount": 900}
]
NOW = 1_735_732_800  # 2025-01-01 12:00 UTC


@pytest.fixture
def pool() -> InProcessPool:
    return InProcessPool(in_process(PRICES, secret="whsec_x", clock_source=lambda: NOW))


def test_a_request_through_the_in_process_pool_is_answered_by_the_emulator(
    pool: InProcessPool,
) -> None:
    client = StripeClient("sk_test_k", base_url=pool.emulator.url, pool=pool)

    made = client.post(
        "/v1/customers", {"email": "a@example.com"}, idempotency_key="c-1"
    )
    again = client.get(f"/v1/customers/{made['id']}")

    assert again["email"] == "a@example.com"
    assert made["created"] == NOW  # the emulator's clock is the one it was given
    assert pool.emulator.port == 0  # nothing listens
    assert [r["idempotency_key"] for r in pool.emulator.requests] == ["c-1", None]


def test_the_in_process_pool_answers_stripes_errors_with_their_status_and_headers(
    pool: InProcessPool,
) -> None:
    answer = pool.request(
        "GET",
        f"{pool.emulator.url}/v1/customers/cus_none",
        headers={"Authorization": "Bearer sk_test_k"},
    )
    client = StripeClient("sk_test_k", base_url=pool.emulator.url, pool=pool)

    assert answer.status == 404
    assert answer.headers.get("request-id", "").startswith("req_")
    with pytest.raises(StripeRequestRejected) as refused:
        client.get("/v1/customers/cus_none")
    assert refused.value.stripe_code == "resource_missing"


def test_the_events_a_request_causes_are_handed_out_signed_for_the_verifier(
    pool: InProcessPool,
) -> None:
    client = StripeClient("sk_test_k", base_url=pool.emulator.url, pool=pool)
    customer = client.post("/v1/customers", {}, idempotency_key="c-1")
    client.post(
        "/v1/subscriptions",
        {"customer": customer["id"], "items": [{"price": "price_basic"}]},
        idempotency_key="s-1",
    )
    verifier = StripeWebhookVerifier("whsec_x", now=lambda: NOW)

    events = [verifier.verify(body, sig) for body, sig in deliveries(pool.emulator)]
    later = deliveries(pool.emulator, since=len(events))

    assert [e.type for e in events] == ["customer.subscription.created", "invoice.paid"]
    assert events[0].subscription is not None
    assert events[0].subscription.customer_id == customer["id"]
    assert later == []
