"""StripePaymentProvider over HTTP against the local Stripe emulator, and the
emulator's signed webhooks through StripeWebhookVerifier."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import stripe

from core.adapters.stripe.client import (
    API_VERSION,
    StripeRequestRejected,
    build_stripe_client,
)
from core.adapters.stripe.http import Urllib3HttpClient
from core.adapters.stripe.provider import StripePaymentProvider
from core.adapters.stripe.webhooks import StripeWebhookVerifier
from core.application.errors import (
    InvalidSignature,
    PaymentProviderRejected,
    PaymentProviderUnavailable,
)
from core.application.ports import BillingEvent, SubscriptionSnapshot
from stripe_emulator import Emulator, start

API_KEY = "sk_test_strata_integration"
SECRET = "whsec_strata_integration_0123456789abcdef"
BASIC = "price_test_basic_month"
PRO = "price_test_pro_month"
PRO_YEARLY = "price_test_pro_year"
PRICES = [
    {"id": BASIC, "interval": "month", "currency": "usd", "unit_amount": 1000},
    {"id": PRO, "interval": "month", "currency": "usd", "unit_amount": 2500},
    {"id": PRO_YEARLY, "interval": "year", "currency": "usd", "unit_amount": 25000},
]


class Receiver:
    """The webhook endpoint: keeps every (body, Stripe-Signature) it is sent."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.deliveries.append(
                    (body, self.headers.get("Stripe-Signature", ""))
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        ).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def emulator(receiver: Receiver) -> Iterator[Emulator]:
    running = start(0, receiver.url, SECRET, PRICES)
    yield running
    running.stop()


def provider_for(url: str, **options: Any) -> StripePaymentProvider:
    client = build_stripe_client(API_KEY, base_url=url, **options)
    return StripePaymentProvider(client)


@pytest.fixture
def provider(emulator: Emulator) -> StripePaymentProvider:
    return provider_for(emulator.url)


@pytest.fixture
def client(emulator: Emulator) -> stripe.StripeClient:
    return build_stripe_client(API_KEY, base_url=emulator.url)


_serial = iter(range(1, 1_000_000))


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns()}-{next(_serial)}"


def verified_events(emulator: Emulator, receiver: Receiver) -> list[BillingEvent]:
    """Every webhook delivered so far, through the verifier."""
    assert emulator.flush(10)
    verifier = StripeWebhookVerifier(SECRET)
    return [verifier.verify(body, header) for body, header in receiver.deliveries]


def subscribe_by_checkout(
    provider: StripePaymentProvider,
    emulator: Emulator,
    receiver: Receiver,
    *,
    price: str = BASIC,
    trial_days: int = 0,
) -> tuple[str, SubscriptionSnapshot]:
    """A customer, a Checkout Session, a visit to its page (what paying does)
    and the subscription it made, found through the checkout webhook."""
    user_id = unique("user")
    customer = provider.create_customer(
        user_id, f"{user_id}@example.com", idempotency_key=unique("cus")
    )
    url = provider.create_checkout(
        customer_id=customer,
        price_id=price,
        user_id=user_id,
        success_url="https://app.example.com/billing/done",
        cancel_url="https://app.example.com/billing/canceled",
        idempotency_key=unique("checkout"),
        trial_days=trial_days,
    )
    visit = httpx.get(url, follow_redirects=False)
    assert visit.status_code == 303
    assert visit.headers["location"] == "https://app.example.com/billing/done"
    (checkout,) = [
        e.checkout
        for e in verified_events(emulator, receiver)
        if e.checkout is not None and e.checkout.user_id == user_id
    ]
    assert checkout.customer_id == customer
    assert checkout.subscription_id is not None
    return customer, provider.get_subscription(checkout.subscription_id)


def near(moment: datetime | None, expected: datetime) -> bool:
    return moment is not None and abs(moment - expected) < timedelta(minutes=2)


# -- customers and checkout -----------------------------------------------------------


def test_one_idempotency_key_sent_twice_makes_one_customer(
    provider: StripePaymentProvider, client: stripe.StripeClient
) -> None:
    key = unique("cus")
    first = provider.create_customer("user-1", "one@example.com", idempotency_key=key)
    again = provider.create_customer("user-1", "one@example.com", idempotency_key=key)
    other = provider.create_customer(
        "user-1", "one@example.com", idempotency_key=key + "x"
    )
    assert first == again != other
    stored = client.v1.customers.retrieve(first).to_dict()
    assert stored["email"] == "one@example.com"
    assert stored["metadata"] == {"user_id": "user-1"}


def test_a_key_reused_for_another_request_is_rejected(
    provider: StripePaymentProvider,
) -> None:
    key = unique("cus")
    provider.create_customer("user-1", "one@example.com", idempotency_key=key)
    with pytest.raises(PaymentProviderRejected, match="same parameters"):
        provider.create_customer("user-2", "two@example.com", idempotency_key=key)


def test_a_visited_checkout_url_creates_the_subscription_it_names(
    provider: StripePaymentProvider,
    client: stripe.StripeClient,
    emulator: Emulator,
    receiver: Receiver,
) -> None:
    customer, sub = subscribe_by_checkout(provider, emulator, receiver)
    assert sub.customer_id == customer
    assert sub.status == "active"
    assert sub.price_id == BASIC
    assert sub.currency == "usd"
    assert sub.user_id is not None
    assert sub.user_id.startswith("user-")
    assert sub.cancel_at_period_end is False
    assert sub.trial_end is None
    # A calendar month from now, read from the item, where the current API (and
    # the emulator) keeps it: there is no top-level current_period_end.
    raw = client.v1.subscriptions.retrieve(sub.id).to_dict()
    assert "current_period_end" not in raw
    assert sub.current_period_end == datetime.fromtimestamp(
        raw["items"]["data"][0]["current_period_end"], tz=UTC
    )
    assert sub.current_period_end is not None
    ahead = sub.current_period_end - datetime.now(UTC)
    assert timedelta(days=27) < ahead <= timedelta(days=31)


def test_a_checkout_with_a_trial_makes_a_trialing_subscription(
    provider: StripePaymentProvider, emulator: Emulator, receiver: Receiver
) -> None:
    _, sub = subscribe_by_checkout(provider, emulator, receiver, trial_days=7)
    assert sub.status == "trialing"
    assert near(sub.trial_end, datetime.now(UTC) + timedelta(days=7))
    assert sub.current_period_end == sub.trial_end


def test_the_portal_returns_a_url(
    provider: StripePaymentProvider, emulator: Emulator
) -> None:
    customer = provider.create_customer(
        "u", "p@example.com", idempotency_key=unique("c")
    )
    url = provider.create_portal(customer, "https://app.example.com/billing")
    assert url.startswith(emulator.url + "/portal/")
    assert httpx.get(url).status_code == 200


# -- changes --------------------------------------------------------------------------


@pytest.fixture
def reset_afterwards(emulator: Emulator) -> Iterator[None]:
    """For a test that moves the emulator's clock: a fresh account after it."""
    yield
    httpx.post(f"{emulator.url}/_emulator/reset", json={}).raise_for_status()


def test_a_change_at_the_previewed_date_invoices_exactly_the_preview(
    provider: StripePaymentProvider,
    emulator: Emulator,
    receiver: Receiver,
    reset_afterwards: None,
) -> None:
    customer, sub = subscribe_by_checkout(provider, emulator, receiver)
    preview = provider.preview_change(
        sub, PRO, proration_behavior="always_invoice", proration_date=None
    )
    assert abs(preview.proration_date - time.time()) < 60
    assert preview.currency == "usd"
    assert 1000 < preview.amount_due <= 1500  # most of a month's difference

    # Ten days on, the same change costs less: the date, not the moment of the
    # change, must decide the amount.
    later = preview.proration_date + 10 * 86400
    httpx.post(
        f"{emulator.url}/_emulator/advance", json={"days": 10}
    ).raise_for_status()
    assert (
        provider.preview_change(
            sub, PRO, proration_behavior="always_invoice", proration_date=later
        ).amount_due
        < preview.amount_due
    )

    changed = provider.change_price(
        sub,
        PRO,
        proration_behavior="always_invoice",
        proration_date=preview.proration_date,
        idempotency_key=unique("change"),
    )
    assert changed.price_id == PRO
    assert changed.item_id == sub.item_id

    newest = provider.list_invoices(customer, 1, None).items[0]
    assert newest.subscription_id == sub.id
    assert newest.amount_due == preview.amount_due


def test_a_preview_at_a_given_date_returns_that_date(
    provider: StripePaymentProvider, emulator: Emulator, receiver: Receiver
) -> None:
    _, sub = subscribe_by_checkout(provider, emulator, receiver)
    at = int(time.time()) + 3600
    preview = provider.preview_change(
        sub, PRO, proration_behavior="always_invoice", proration_date=at
    )
    assert preview.proration_date == at


def test_a_subscription_is_canceled_at_period_end_and_resumed(
    provider: StripePaymentProvider, emulator: Emulator, receiver: Receiver
) -> None:
    _, sub = subscribe_by_checkout(provider, emulator, receiver)
    canceled = provider.set_cancel_at_period_end(
        sub.id, True, idempotency_key=unique("cancel")
    )
    assert canceled.cancel_at_period_end is True
    assert canceled.status == "active"
    resumed = provider.set_cancel_at_period_end(
        sub.id, False, idempotency_key=unique("resume")
    )
    assert resumed.cancel_at_period_end is False
    assert provider.get_subscription(sub.id).cancel_at_period_end is False


# -- invoices -------------------------------------------------------------------------


def test_invoices_are_listed_page_by_page(
    provider: StripePaymentProvider, emulator: Emulator, receiver: Receiver
) -> None:
    customer, sub = subscribe_by_checkout(provider, emulator, receiver)
    provider.change_price(
        sub,
        PRO,
        proration_behavior="always_invoice",
        proration_date=None,
        idempotency_key=unique("change"),
    )
    everything = provider.list_invoices(customer, 10, None)
    assert len(everything.items) == 2
    assert everything.next_after is None

    pages, after = [], None
    while True:
        page = provider.list_invoices(customer, 1, after)
        assert len(page.items) == 1
        pages.append(page.items[0].id)
        if page.next_after is None:
            break
        assert page.next_after == page.items[0].id
        after = page.next_after
    assert pages == [invoice.id for invoice in everything.items]
    # Newest first: the change's invoice, then the first one.
    assert everything.items[0].created >= everything.items[1].created


def test_a_bank_transfer_subscription_returns_its_hosted_invoice(
    provider: StripePaymentProvider, emulator: Emulator
) -> None:
    user_id = unique("user")
    customer = provider.create_customer(
        user_id, "bank@example.com", idempotency_key=unique("cus")
    )
    url = provider.create_invoiced_subscription(
        customer_id=customer,
        price_id=PRO_YEARLY,
        user_id=user_id,
        days_until_due=14,
        idempotency_key=unique("bank"),
    )
    (invoice,) = provider.list_invoices(customer, 10, None).items
    assert url == invoice.hosted_invoice_url
    assert invoice.status == "open"
    assert invoice.amount_due == 25000
    assert url.startswith(emulator.url)
    assert httpx.get(url).status_code == 200  # the emulator's "pay by transfer"


# -- failures -------------------------------------------------------------------------


def test_an_unknown_subscription_is_rejected_as_missing(
    provider: StripePaymentProvider,
) -> None:
    with pytest.raises(PaymentProviderRejected) as caught:
        provider.get_subscription("sub_does_not_exist")
    assert isinstance(caught.value, StripeRequestRejected)
    assert caught.value.status == 404
    assert caught.value.stripe_code == "resource_missing"
    assert "sub_does_not_exist" in caught.value.message


def test_a_wrong_key_is_unavailable_without_showing_it(emulator: Emulator) -> None:
    client = build_stripe_client(
        "pk_live_not_a_secret_key_12345", base_url=emulator.url
    )
    with pytest.raises(PaymentProviderUnavailable) as caught:
        StripePaymentProvider(client).get_subscription("sub_x")
    assert "pk_live_not_a_secret_key_12345" not in str(caught.value)


def test_a_stopped_stripe_is_unavailable() -> None:
    stopped = start(0, None, SECRET, PRICES)
    provider_for(stopped.url).create_customer(
        "u", "x@example.com", idempotency_key=unique("c")
    )
    stopped.stop()
    # A fresh client: Emulator.stop() stops accepting connections but leaves an
    # open keep-alive connection served, so a client that already has one would
    # still be answered.
    provider = StripePaymentProvider(
        build_stripe_client(
            API_KEY,
            base_url=stopped.url,
            max_retries=2,
            http_client=Urllib3HttpClient(sleep=lambda _: None),
        )
    )
    with pytest.raises(PaymentProviderUnavailable) as caught:
        provider.create_customer("u", "x@example.com", idempotency_key=unique("c"))
    assert "APIConnectionError" in str(caught.value.__cause__)


# -- what the emulator saw and sent ---------------------------------------------------


def test_every_request_pinned_the_api_version(
    provider: StripePaymentProvider, emulator: Emulator
) -> None:
    provider.create_customer("u", "v@example.com", idempotency_key=unique("c"))
    health = httpx.get(f"{emulator.url}/_emulator/health").json()
    assert health["stripe_versions"] == [API_VERSION]


def test_every_webhook_the_emulator_sent_verifies_and_reads(
    provider: StripePaymentProvider, emulator: Emulator, receiver: Receiver
) -> None:
    subscribe_by_checkout(provider, emulator, receiver)
    events = verified_events(emulator, receiver)
    types = {e.type for e in events}
    assert {
        "customer.subscription.created",
        "invoice.paid",
        "checkout.session.completed",
    } <= types
    for event in events:
        if event.type.startswith("customer.subscription."):
            assert event.subscription is not None
            assert event.subscription.current_period_end is not None
        if event.type in ("invoice.paid", "invoice.payment_failed"):
            assert event.invoice is not None
            assert event.invoice.subscription_id is not None
    body, header = receiver.deliveries[-1]
    with pytest.raises(InvalidSignature):
        StripeWebhookVerifier("whsec_another_endpoint").verify(body, header)
    assert json.loads(body)["api_version"] == API_VERSION


def test_registering_the_webhook_endpoint_pins_the_api_version_and_the_handled_events(
    client: stripe.StripeClient, emulator: Emulator
) -> None:
    from core.adapters.stripe.webhooks import register_endpoint
    from core.application.billing import HANDLED_EVENTS

    endpoint = register_endpoint(
        client, "https://api.example.com/api/v1/webhooks/stripe", HANDLED_EVENTS
    )

    assert endpoint.id.startswith("we_")
    assert endpoint.api_version == API_VERSION
    assert endpoint.secret == SECRET
    (stored,) = [e for e in emulator.webhook_endpoints if e["id"] == endpoint.id]
    assert sorted(stored["enabled_events"]) == sorted(HANDLED_EVENTS)
    # Asking again for the same URL is the same request (its idempotency key).
    again = register_endpoint(
        client, "https://api.example.com/api/v1/webhooks/stripe", HANDLED_EVENTS
    )
    assert again.id == endpoint.id


def test_strata_stripe_register_webhook_prints_the_endpoint_and_its_secret(
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from local.cli import main

    monkeypatch.setenv("STRATA_STRIPE_API_BASE", emulator.url)
    monkeypatch.setenv("STRATA_STRIPE_API_KEY", API_KEY)

    status = main(["stripe", "register-webhook", "https://x.example.com/hook"])

    assert status == 0
    out = capsys.readouterr().out
    assert "webhook endpoint we_" in out
    assert API_VERSION in out
    assert SECRET in out


def test_listing_subscriptions_pages_through_the_live_ones_and_cancel_now_ends_one(
    provider: StripePaymentProvider, emulator: Emulator, receiver: Receiver
) -> None:
    _, first = subscribe_by_checkout(provider, emulator, receiver)
    _, second = subscribe_by_checkout(provider, emulator, receiver)

    ended = provider.cancel_now(second.id, idempotency_key=unique("cancel"))

    assert ended.status == "canceled"
    seen: list[str] = []
    after = None
    while True:
        page = provider.list_subscriptions(1, after)
        seen += [s.id for s in page.items]
        if page.next_after is None:
            break
        after = page.next_after
    assert first.id in seen
    assert second.id not in seen
    assert len(seen) == len(set(seen))


# -- seats ----------------------------------------------------------------------------


def test_seats_follow_the_members_with_a_prorated_invoice_and_a_webhook(
    provider: StripePaymentProvider, emulator: Emulator, receiver: Receiver
) -> None:
    org_id = unique("org")
    customer = provider.create_customer(
        org_id, f"{org_id}@example.com", idempotency_key=unique("cus")
    )
    url = provider.create_seat_checkout(
        customer_id=customer,
        price_id=BASIC,
        org_id=org_id,
        quantity=3,
        success_url="https://app.example.com/orgs/billing/done",
        cancel_url="https://app.example.com/orgs/billing/canceled",
        idempotency_key=unique("checkout"),
    )
    assert httpx.get(url, follow_redirects=False).status_code == 303
    (checkout,) = [
        e.checkout
        for e in verified_events(emulator, receiver)
        if e.checkout is not None and e.checkout.org_id == org_id
    ]
    assert checkout.user_id is None
    assert checkout.subscription_id is not None
    sub = provider.get_subscription(checkout.subscription_id)
    assert (sub.quantity, sub.org_id, sub.user_id) == (3, org_id, None)
    key = f"seats:{org_id}:leave-1"

    change = provider.set_seat_quantity(
        sub.id, 2, proration_behavior="always_invoice", idempotency_key=key
    )
    again = provider.set_seat_quantity(
        sub.id, 2, proration_behavior="always_invoice", idempotency_key=key
    )

    assert change == again
    assert change.quantity == 2
    assert change.invoice_id is not None
    invoices = provider.list_invoices(customer, 10, None).items
    assert invoices[0].id == change.invoice_id  # newest first
    assert len(invoices) == 2  # the first period's, and the seat change's
    updated = [
        e.subscription
        for e in verified_events(emulator, receiver)
        if e.type == "customer.subscription.updated"
        and e.subscription is not None
        and e.subscription.id == sub.id
    ]
    assert [s.quantity for s in updated] == [3, 2]  # paid (active), then seats
