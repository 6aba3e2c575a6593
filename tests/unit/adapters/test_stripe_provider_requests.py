"""StripePaymentProvider: the exact requests it sends and how it reads the
answers, against the scripted loopback server of the client tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import pytest

from core.adapters.stripe.client import build_stripe_client
from core.adapters.stripe.http import Urllib3HttpClient
from core.adapters.stripe.objects import MalformedStripeObject
from core.adapters.stripe.provider import StripePaymentProvider
from core.application.errors import (
    PaymentProviderRejected,
    PaymentProviderUnavailable,
)
from core.application.ports import SubscriptionSnapshot
from tests.unit.adapters.stripe_stub import API_KEY, Reply, Sleeps, Stub
from tests.unit.adapters.test_stripe_webhooks import (
    NOW,
    invoice_object,
    subscription_object,
)

CLOCK = datetime.fromtimestamp(NOW + 42, tz=UTC)


@pytest.fixture
def provider(stub: Stub) -> StripePaymentProvider:
    client = build_stripe_client(
        API_KEY, base_url=stub.url, http_client=Urllib3HttpClient(sleep=Sleeps())
    )
    return StripePaymentProvider(client, now=lambda: CLOCK, token=lambda: "r4nd")


def sent(stub: Stub, index: int = -1) -> tuple[str, str, dict[str, str], str | None]:
    seen = stub.seen[index]
    return (
        seen.method,
        seen.path,
        dict(parse_qsl(seen.body, keep_blank_values=True)),
        seen.headers.get("Idempotency-Key"),
    )


SUBSCRIPTION = SubscriptionSnapshot(
    id="sub_123",
    customer_id="cus_123",
    status="active",
    price_id="price_basic",
    item_id="si_123",
    currency="usd",
    current_period_end=None,
    cancel_at_period_end=False,
)


def test_create_customer_sends_email_and_user_and_returns_the_id(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body={"id": "cus_new", "object": "customer"}))
    assert provider.create_customer("u1", "a@example.com", idempotency_key="c-u1") == (
        "cus_new"
    )
    assert sent(stub) == (
        "POST",
        "/v1/customers",
        {"email": "a@example.com", "metadata[user_id]": "u1"},
        "c-u1",
    )


def test_create_checkout_sends_a_subscription_session_naming_the_user(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body={"id": "cs_1", "url": "https://checkout.example/cs_1"}))
    url = provider.create_checkout(
        customer_id="cus_1",
        price_id="price_pro",
        user_id="u1",
        success_url="https://app/ok",
        cancel_url="https://app/no",
        idempotency_key="co-u1",
    )
    assert url == "https://checkout.example/cs_1"
    assert sent(stub) == (
        "POST",
        "/v1/checkout/sessions",
        {
            "mode": "subscription",
            "customer": "cus_1",
            "line_items[0][price]": "price_pro",
            "line_items[0][quantity]": "1",
            "client_reference_id": "u1",
            "metadata[user_id]": "u1",
            "subscription_data[metadata][user_id]": "u1",
            "success_url": "https://app/ok",
            "cancel_url": "https://app/no",
        },
        "co-u1",
    )


def test_a_trial_is_sent_only_when_asked_for(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body={"url": "https://checkout.example/cs_2"}))
    provider.create_checkout(
        customer_id="cus_1",
        price_id="price_pro",
        user_id="u1",
        success_url="https://app/ok",
        cancel_url="https://app/no",
        idempotency_key="co-u1-trial",
        trial_days=14,
    )
    assert sent(stub)[2]["subscription_data[trial_period_days]"] == "14"


def test_create_invoiced_subscription_returns_the_first_invoices_hosted_url(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    latest = invoice_object(status="open", hosted_invoice_url="https://inv/1")
    stub.script(Reply(body=subscription_object(latest_invoice=latest)))
    url = provider.create_invoiced_subscription(
        customer_id="cus_1",
        price_id="price_pro",
        user_id="u1",
        days_until_due=14,
        idempotency_key="bt-u1",
    )
    assert url == "https://inv/1"
    assert sent(stub) == (
        "POST",
        "/v1/subscriptions",
        {
            "customer": "cus_1",
            "items[0][price]": "price_pro",
            "collection_method": "send_invoice",
            "days_until_due": "14",
            "payment_settings[payment_method_types][0]": "customer_balance",
            "metadata[user_id]": "u1",
            "expand[0]": "latest_invoice",
        },
        "bt-u1",
    )


def test_an_invoiced_subscription_without_a_hosted_url_is_a_provider_failure(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body=subscription_object(latest_invoice="in_1")))
    with pytest.raises(PaymentProviderUnavailable) as caught:
        provider.create_invoiced_subscription(
            customer_id="cus_1",
            price_id="price_pro",
            user_id="u1",
            days_until_due=14,
            idempotency_key="bt-u1",
        )
    assert isinstance(caught.value.__cause__, MalformedStripeObject)


def invoiced(provider: StripePaymentProvider, key: str = "bt-u1") -> str:
    return provider.create_invoiced_subscription(
        customer_id="cus_1",
        price_id="price_pro",
        user_id="u1",
        days_until_due=14,
        idempotency_key=key,
    )


def test_a_draft_first_invoice_is_finalized_for_its_hosted_url(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    # Real Stripe leaves a send_invoice subscription's first invoice a draft.
    draft = invoice_object(id="in_d", status="draft", hosted_invoice_url=None)
    stub.script(
        Reply(body=subscription_object(latest_invoice=draft)),
        Reply(
            body=invoice_object(
                id="in_d", status="open", hosted_invoice_url="https://inv/d"
            )
        ),
    )
    assert invoiced(provider) == "https://inv/d"
    assert sent(stub) == ("POST", "/v1/invoices/in_d/finalize", {}, "bt-u1-finalize")


def test_a_draft_finalized_meanwhile_by_stripe_is_read_instead(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    draft = invoice_object(id="in_d", status="draft", hosted_invoice_url=None)
    stub.script(
        Reply(body=subscription_object(latest_invoice=draft)),
        Reply(400, {"error": {"message": "This invoice is already finalized"}}),
        Reply(
            body=invoice_object(
                id="in_d", status="open", hosted_invoice_url="https://inv/d"
            )
        ),
    )
    assert invoiced(provider) == "https://inv/d"
    assert sent(stub)[:2] == ("GET", "/v1/invoices/in_d")


def test_a_draft_that_cannot_be_finalized_is_rejected(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    draft = invoice_object(id="in_d", status="draft", hosted_invoice_url=None)
    stub.script(
        Reply(body=subscription_object(latest_invoice=draft)),
        Reply(400, {"error": {"message": "Customer has no email"}}),
        Reply(body=draft),
    )
    with pytest.raises(PaymentProviderRejected, match="no email"):
        invoiced(provider)


def test_a_long_key_still_makes_a_valid_finalize_key(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    draft = invoice_object(id="in_d", status="draft", hosted_invoice_url=None)
    stub.script(
        Reply(body=subscription_object(latest_invoice=draft)),
        Reply(body=invoice_object(id="in_d", status="open")),
    )
    invoiced(provider, key="k" * 255)
    key = sent(stub)[3]
    assert key is not None
    assert len(key) <= 255
    assert key.endswith("-finalize")


def test_create_portal_makes_its_own_key_from_the_customer(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body={"url": "https://portal.example/s"}))
    assert provider.create_portal("cus_1", "https://app/back") == (
        "https://portal.example/s"
    )
    assert sent(stub) == (
        "POST",
        "/v1/billing_portal/sessions",
        {"customer": "cus_1", "return_url": "https://app/back"},
        "portal-cus_1-r4nd",
    )


def test_get_subscription_reads_the_snapshot(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body=subscription_object()))
    sub = provider.get_subscription("sub_123")
    assert (sub.id, sub.item_id, sub.price_id) == ("sub_123", "si_123", "price_pro")
    method, path = sent(stub)[:2]
    # The latest invoice says whether a bank-transfer subscription was paid.
    assert (method, path) == (
        "GET",
        "/v1/subscriptions/sub_123?expand%5B0%5D=latest_invoice",
    )


def test_an_id_cannot_reach_another_endpoint(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body=subscription_object()))
    provider.get_subscription("../customers/cus_1?x=1")
    assert sent(stub)[1].split("?")[0] == (
        "/v1/subscriptions/..%2Fcustomers%2Fcus_1%3Fx%3D1"
    )


def test_preview_change_without_a_date_uses_the_clock_and_says_so(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body={"object": "invoice", "amount_due": 733, "currency": "USD"}))
    preview = provider.preview_change(
        SUBSCRIPTION,
        "price_pro",
        proration_behavior="always_invoice",
        proration_date=None,
    )
    assert (preview.amount_due, preview.currency) == (733, "usd")
    assert preview.proration_date == NOW + 42
    method, path, form, key = sent(stub)
    assert (method, path) == ("POST", "/v1/invoices/create_preview")
    assert form == {
        "customer": "cus_123",
        "subscription": "sub_123",
        "subscription_details[items][0][id]": "si_123",
        "subscription_details[items][0][price]": "price_pro",
        "subscription_details[proration_behavior]": "always_invoice",
        "subscription_details[proration_date]": str(NOW + 42),
    }
    assert key == "preview-sub_123-r4nd"


def test_preview_change_keeps_a_given_date(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body={"amount_due": 0, "currency": "usd"}))
    preview = provider.preview_change(
        SUBSCRIPTION, "price_pro", proration_behavior="none", proration_date=NOW - 5
    )
    assert preview.proration_date == NOW - 5
    assert sent(stub)[2]["subscription_details[proration_date]"] == str(NOW - 5)


def test_change_price_replaces_the_items_price_pending_if_unpaid(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body=subscription_object()))
    provider.change_price(
        SUBSCRIPTION,
        "price_pro",
        proration_behavior="always_invoice",
        proration_date=NOW,
        idempotency_key="chg-1",
    )
    assert sent(stub) == (
        "POST",
        "/v1/subscriptions/sub_123",
        {
            "items[0][id]": "si_123",
            "items[0][price]": "price_pro",
            "proration_behavior": "always_invoice",
            "proration_date": str(NOW),
            # Invoiced at once: applied only once paid.
            "payment_behavior": "pending_if_incomplete",
            "expand[0]": "latest_invoice",
        },
        "chg-1",
    )


def test_change_price_without_a_date_sends_none(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body=subscription_object()))
    provider.change_price(
        SUBSCRIPTION,
        "price_pro",
        proration_behavior="none",
        proration_date=None,
        idempotency_key="chg-2",
    )
    assert "proration_date" not in sent(stub)[2]
    # Nothing invoiced now: nothing to hold pending.
    assert "payment_behavior" not in sent(stub)[2]


def test_a_change_with_a_quantity_moves_price_and_seats_in_one_request(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body={"amount_due": 0, "currency": "usd"}))
    stub.script(Reply(body=subscription_object()))

    provider.preview_change(
        SUBSCRIPTION,
        "price_team",
        proration_behavior="always_invoice",
        proration_date=NOW,
        quantity=3,
    )
    provider.change_price(
        SUBSCRIPTION,
        "price_team",
        proration_behavior="none",
        proration_date=None,
        idempotency_key="chg-3",
        quantity=3,
    )

    preview, change = sent(stub, -2)[2], sent(stub)[2]
    assert preview["subscription_details[items][0][quantity]"] == "3"
    assert (change["items[0][price]"], change["items[0][quantity]"]) == (
        "price_team",
        "3",
    )
    with pytest.raises(ValueError, match="at least one unit"):
        provider.change_price(
            SUBSCRIPTION,
            "price_team",
            proration_behavior="none",
            proration_date=None,
            idempotency_key="chg-4",
            quantity=0,
        )


@pytest.mark.parametrize(("cancel", "value"), [(True, "true"), (False, "false")])
def test_set_cancel_at_period_end_sends_the_flag(
    stub: Stub, provider: StripePaymentProvider, cancel: bool, value: str
) -> None:
    stub.script(Reply(body=subscription_object(cancel_at_period_end=cancel)))
    sub = provider.set_cancel_at_period_end("sub_123", cancel, idempotency_key="c")
    assert sub.cancel_at_period_end is cancel
    assert sent(stub)[1:3] == (
        "/v1/subscriptions/sub_123",
        {"cancel_at_period_end": value},
    )


def invoice_list(*ids: str, has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "url": "/v1/invoices",
        "has_more": has_more,
        "data": [invoice_object(id=i) for i in ids],
    }


def test_list_invoices_points_at_the_last_one_when_more_follow(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body=invoice_list("in_3", "in_2", has_more=True)))
    page = provider.list_invoices("cus_123", 2, "in_4")
    assert [i.id for i in page.items] == ["in_3", "in_2"]
    assert page.next_after == "in_2"
    assert sent(stub)[1] == "/v1/invoices?customer=cus_123&limit=2&starting_after=in_4"


def test_the_last_page_has_no_next(stub: Stub, provider: StripePaymentProvider) -> None:
    stub.script(Reply(body=invoice_list("in_1", has_more=False)))
    page = provider.list_invoices("cus_123", 2, None)
    assert page.next_after is None
    assert sent(stub)[1] == "/v1/invoices?customer=cus_123&limit=2"


def test_an_unreadable_response_is_a_provider_failure_with_the_cause(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body={"object": "subscription", "id": "sub_1"}))
    with pytest.raises(PaymentProviderUnavailable) as caught:
        provider.get_subscription("sub_1")
    assert isinstance(caught.value.__cause__, MalformedStripeObject)


def test_a_refusal_reaches_the_caller_as_rejected(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(
        Reply(
            400,
            {
                "error": {
                    "type": "invalid_request_error",
                    "message": "A canceled subscription can only update its "
                    "cancellation_details and metadata.",
                }
            },
        )
    )
    with pytest.raises(PaymentProviderRejected, match="canceled subscription"):
        provider.set_cancel_at_period_end("sub_1", False, idempotency_key="r")


def test_a_persons_checkout_sends_byte_for_byte_the_form_it_sent_before_seats(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    # Captured from main's provider (before seats) with these arguments: the
    # form order and encoding, not only the fields, are the same.
    stub.script(Reply(body={"id": "cs_1", "url": "https://checkout.example/cs_1"}))
    provider.create_checkout(
        customer_id="cus_1",
        price_id="price_pro",
        user_id="u1",
        success_url="https://app/ok?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="https://app/no",
        idempotency_key="co-u1",
        trial_days=14,
    )
    assert stub.seen[-1].body == (
        "mode=subscription&customer=cus_1&line_items[0][price]=price_pro"
        "&line_items[0][quantity]=1&client_reference_id=u1&metadata[user_id]=u1"
        "&subscription_data[metadata][user_id]=u1"
        "&subscription_data[trial_period_days]=14"
        "&success_url=https%3A%2F%2Fapp%2Fok%3Fsession_id%3D%7BCHECKOUT_SESSION_ID%7D"
        "&cancel_url=https%3A%2F%2Fapp%2Fno"
    )


def test_a_seat_checkout_sends_the_quantity_and_names_the_organization_not_a_user(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    stub.script(Reply(body={"id": "cs_1", "url": "https://checkout.example/cs_1"}))
    url = provider.create_seat_checkout(
        customer_id="cus_org",
        price_id="price_team",
        org_id="org1",
        quantity=3,
        success_url="https://app/ok",
        cancel_url="https://app/no",
        idempotency_key="co-org1",
    )
    assert url == "https://checkout.example/cs_1"
    assert sent(stub) == (
        "POST",
        "/v1/checkout/sessions",
        {
            "mode": "subscription",
            "customer": "cus_org",
            "line_items[0][price]": "price_team",
            "line_items[0][quantity]": "3",
            "metadata[org_id]": "org1",
            "subscription_data[metadata][org_id]": "org1",
            "success_url": "https://app/ok",
            "cancel_url": "https://app/no",
        },
        "co-org1",
    )


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_seat_checkout_or_quantity_below_one_is_refused_before_any_request(
    stub: Stub, provider: StripePaymentProvider, quantity: int
) -> None:
    with pytest.raises(ValueError, match="at least one seat"):
        provider.create_seat_checkout(
            customer_id="cus_org",
            price_id="price_team",
            org_id="org1",
            quantity=quantity,
            success_url="https://app/ok",
            cancel_url="https://app/no",
            idempotency_key="co-org1",
        )
    with pytest.raises(ValueError, match="at least one seat"):
        provider.set_seat_quantity(
            "sub_123",
            quantity,
            proration_behavior="always_invoice",
            idempotency_key="seats:org1:m1",
        )
    assert stub.seen == []


def _seat_subscription(latest_invoice: Any = None, quantity: int = 4) -> Any:
    sub = subscription_object(
        metadata={"org_id": "org1", "seat_change": "seats:org1:m1"},
        latest_invoice=latest_invoice,
    )
    sub["items"]["data"][0]["quantity"] = quantity
    return sub


def test_set_seat_quantity_reads_the_item_then_updates_its_quantity_under_the_key(
    stub: Stub, provider: StripePaymentProvider
) -> None:
    made = invoice_object(id="in_seats", status="paid")
    made["parent"]["subscription_details"]["metadata"] = {
        "org_id": "org1",
        "seat_change": "seats:org1:m1",
    }
    stub.script(Reply(body=subscription_object()), Reply(body=_seat_subscription(made)))

    change = provider.set_seat_quantity(
        "sub_123",
        4,
        proration_behavior="always_invoice",
        idempotency_key="seats:org1:m1",
    )

    assert (change.quantity, change.invoice_id) == (4, "in_seats")
    assert change.subscription.org_id == "org1"
    assert sent(stub, 0)[:2] == ("GET", "/v1/subscriptions/sub_123")
    assert sent(stub, 1) == (
        "POST",
        "/v1/subscriptions/sub_123",
        {
            "items[0][id]": "si_123",
            "items[0][quantity]": "4",
            "proration_behavior": "always_invoice",
            "metadata[seat_change]": "seats:org1:m1",
            "expand[0]": "latest_invoice",
        },
        "seats:org1:m1",
    )
    # No payment_behavior: the seats follow the members even if the card fails.
    assert "payment_behavior" not in sent(stub, 1)[2]


@pytest.mark.parametrize(
    "latest",
    [
        None,  # create_prorations: no invoice now
        "in_old",  # not expanded
        invoice_object(id="in_old"),  # an older invoice, made by no seat change
    ],
)
def test_set_seat_quantity_names_no_invoice_when_the_change_made_none(
    stub: Stub, provider: StripePaymentProvider, latest: Any
) -> None:
    stub.script(
        Reply(body=subscription_object()), Reply(body=_seat_subscription(latest))
    )

    change = provider.set_seat_quantity(
        "sub_123",
        4,
        proration_behavior="create_prorations",
        idempotency_key="seats:org1:m1",
    )

    assert (change.quantity, change.invoice_id) == (4, None)
