"""StripeWebhookVerifier, against signatures made by stripe-python itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe

from core.adapters.stripe.client import API_VERSION
from core.adapters.stripe.webhooks import StripeWebhookVerifier
from core.application.errors import InvalidSignature

SECRET = "whsec_test_0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000
PERIOD_END = NOW + 30 * 86400


def sign(payload: str, secret: str = SECRET, timestamp: int = NOW) -> str:
    header: str = stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=timestamp
    )
    return header


def verifier(now: float = NOW, tolerance: int = 300) -> StripeWebhookVerifier:
    return StripeWebhookVerifier(SECRET, tolerance=tolerance, now=lambda: now)


def subscription_object(**changes: Any) -> dict[str, Any]:
    """A subscription as API 2026-10-28 shapes it: the period on the item."""
    sub: dict[str, Any] = {
        "id": "sub_123",
        "object": "subscription",
        "customer": "cus_123",
        "status": "active",
        "cancel_at_period_end": False,
        "currency": "usd",
        "trial_end": None,
        "metadata": {"user_id": "user-1"},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_123",
                    "object": "subscription_item",
                    "current_period_start": NOW,
                    "current_period_end": PERIOD_END,
                    "price": {"id": "price_pro", "currency": "eur"},
                    "quantity": 1,
                }
            ],
            "has_more": False,
        },
    }
    sub.update(changes)
    return sub


def invoice_object(**changes: Any) -> dict[str, Any]:
    inv: dict[str, Any] = {
        "id": "in_123",
        "object": "invoice",
        "customer": "cus_123",
        "status": "paid",
        "amount_due": 1500,
        "amount_paid": 1500,
        "currency": "usd",
        "created": NOW,
        "number": "ABC-0001",
        "hosted_invoice_url": "https://invoice.stripe.com/i/abc",
        "invoice_pdf": "https://pay.stripe.com/invoice/abc/pdf",
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"subscription": "sub_123", "metadata": {}},
        },
    }
    inv.update(changes)
    return inv


def checkout_object(**changes: Any) -> dict[str, Any]:
    session: dict[str, Any] = {
        "id": "cs_test_123",
        "object": "checkout.session",
        "mode": "subscription",
        "customer": "cus_123",
        "subscription": "sub_123",
        "client_reference_id": "user-1",
        "metadata": {"user_id": "user-1"},
        "status": "complete",
    }
    session.update(changes)
    return session


def event(event_type: str, obj: dict[str, Any] | None, **changes: Any) -> str:
    body: dict[str, Any] = {
        "id": "evt_123",
        "object": "event",
        "api_version": API_VERSION,
        "created": NOW,
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": obj if obj is not None else {"id": "x"}},
    }
    body.update(changes)
    return json.dumps(body)


SUBSCRIPTION_EVENT = event("customer.subscription.updated", subscription_object())


# -- signatures -----------------------------------------------------------------------


def test_an_event_signed_with_the_secret_is_verified() -> None:
    result = verifier().verify(SUBSCRIPTION_EVENT.encode(), sign(SUBSCRIPTION_EVENT))
    assert result.id == "evt_123"
    assert result.type == "customer.subscription.updated"
    assert result.created == datetime.fromtimestamp(NOW, tz=UTC)


def test_an_event_signed_with_another_secret_is_refused() -> None:
    header = sign(SUBSCRIPTION_EVENT, secret="whsec_someone_else")
    with pytest.raises(InvalidSignature):
        verifier().verify(SUBSCRIPTION_EVENT.encode(), header)


def test_a_body_parsed_and_serialized_again_no_longer_matches() -> None:
    header = sign(SUBSCRIPTION_EVENT)
    same_json = json.dumps(json.loads(SUBSCRIPTION_EVENT), indent=2).encode()
    assert json.loads(same_json) == json.loads(SUBSCRIPTION_EVENT)
    with pytest.raises(InvalidSignature):
        verifier().verify(same_json, header)


def test_a_body_with_one_byte_changed_is_refused() -> None:
    header = sign(SUBSCRIPTION_EVENT)
    tampered = SUBSCRIPTION_EVENT.replace("price_pro", "price_pri").encode()
    with pytest.raises(InvalidSignature):
        verifier().verify(tampered, header)


def test_a_signature_older_than_the_tolerance_is_refused() -> None:
    header = sign(SUBSCRIPTION_EVENT, timestamp=NOW - 301)
    with pytest.raises(InvalidSignature, match="older than 300 seconds"):
        verifier().verify(SUBSCRIPTION_EVENT.encode(), header)


def test_a_signature_within_the_tolerance_is_accepted() -> None:
    header = sign(SUBSCRIPTION_EVENT, timestamp=NOW - 299)
    assert verifier().verify(SUBSCRIPTION_EVENT.encode(), header).id == "evt_123"


def test_a_signature_from_a_clock_ahead_of_ours_is_accepted_as_stripe_does() -> None:
    header = sign(SUBSCRIPTION_EVENT, timestamp=NOW + 3600)
    assert verifier().verify(SUBSCRIPTION_EVENT.encode(), header).id == "evt_123"


def test_the_tolerance_is_configurable() -> None:
    header = sign(SUBSCRIPTION_EVENT, timestamp=NOW - 60)
    with pytest.raises(InvalidSignature):
        verifier(tolerance=30).verify(SUBSCRIPTION_EVENT.encode(), header)


def test_one_matching_v1_among_several_is_enough() -> None:
    good = sign(SUBSCRIPTION_EVENT).split("v1=")[1]
    header = f"t={NOW},v1={'0' * 64},v1={good},v0={'1' * 64}"
    assert verifier().verify(SUBSCRIPTION_EVENT.encode(), header).id == "evt_123"


def test_a_matching_v0_alone_is_not_enough() -> None:
    good = sign(SUBSCRIPTION_EVENT).split("v1=")[1]
    with pytest.raises(InvalidSignature, match="no v1"):
        verifier().verify(SUBSCRIPTION_EVENT.encode(), f"t={NOW},v0={good}")


def test_a_signature_for_another_timestamp_is_refused() -> None:
    good = sign(SUBSCRIPTION_EVENT).split("v1=")[1]
    with pytest.raises(InvalidSignature):
        verifier().verify(SUBSCRIPTION_EVENT.encode(), f"t={NOW + 1},v1={good}")


@pytest.mark.parametrize(
    "header",
    [
        "",
        "   ",
        "garbage",
        f"v1={'0' * 64}",
        f"t=,v1={'0' * 64}",
        f"t=soon,v1={'0' * 64}",
        f"t=-5,v1={'0' * 64}",
        f"t={NOW},t={NOW},v1={'0' * 64}",
        f"t={NOW}",
        f"t={NOW},v1=é{'0' * 63}",
        f"t=\uff11\uff12\uff13,v1={'0' * 64}",
    ],
)
def test_a_missing_or_garbled_header_is_refused(header: str) -> None:
    with pytest.raises(InvalidSignature):
        verifier().verify(SUBSCRIPTION_EVENT.encode(), header)


def test_a_missing_header_is_named_in_the_message() -> None:
    with pytest.raises(InvalidSignature, match="missing"):
        verifier().verify(SUBSCRIPTION_EVENT.encode(), "")


@pytest.mark.parametrize(
    ("header_for", "now"),
    [
        (lambda body: sign(body), NOW),
        (lambda body: sign(body, secret="whsec_other"), NOW),
        (lambda body: sign(body, timestamp=NOW - 301), NOW),
        (lambda body: sign(body, timestamp=NOW - 300), NOW),
        (lambda body: "t=1,v1=abc", NOW),
    ],
)
def test_it_accepts_and_refuses_exactly_what_stripe_python_does(
    header_for: Any, now: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = header_for(SUBSCRIPTION_EVENT)
    monkeypatch.setattr("stripe._webhook.time.time", lambda: now)
    try:
        stripe.WebhookSignature.verify_header(SUBSCRIPTION_EVENT, header, SECRET, 300)
        stripe_accepts = True
    except stripe.SignatureVerificationError:
        stripe_accepts = False
    try:
        verifier(now=now).verify(SUBSCRIPTION_EVENT.encode(), header)
        ours_accepts = True
    except InvalidSignature:
        ours_accepts = False
    assert ours_accepts == stripe_accepts


def test_no_message_contains_the_secret() -> None:
    bodies_and_headers = [
        (SUBSCRIPTION_EVENT, ""),
        (SUBSCRIPTION_EVENT, "t=1"),
        (SUBSCRIPTION_EVENT, sign(SUBSCRIPTION_EVENT, secret="whsec_x")),
        (SUBSCRIPTION_EVENT, sign(SUBSCRIPTION_EVENT, timestamp=1)),
        ("not json", sign("not json")),
        ('{"id": 1}', sign('{"id": 1}')),
    ]
    for body, header in bodies_and_headers:
        with pytest.raises(InvalidSignature) as caught:
            verifier().verify(body.encode(), header)
        assert SECRET not in str(caught.value)
        assert SECRET[6:] not in str(caught.value)


def test_an_empty_secret_or_a_disabled_tolerance_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="secret"):
        StripeWebhookVerifier(" ")
    with pytest.raises(ValueError, match="tolerance"):
        StripeWebhookVerifier(SECRET, tolerance=0)


# -- bodies ---------------------------------------------------------------------------


def verify(body: str) -> Any:
    return verifier().verify(body.encode(), sign(body))


def test_a_signed_body_that_is_not_json_is_refused_as_such() -> None:
    with pytest.raises(InvalidSignature, match="not JSON"):
        verify("{not json")


def test_a_signed_body_that_is_not_utf8_is_refused_as_such() -> None:
    body = b'{"id": "\xff"}'
    # Signed by hand: the stripe helper only signs text.
    mac = hmac.new(SECRET.encode(), f"{NOW}.".encode() + body, hashlib.sha256)
    header = f"t={NOW},v1={mac.hexdigest()}"
    with pytest.raises(InvalidSignature, match="not JSON"):
        verifier().verify(body, header)


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        '"evt_123"',
        '{"object": "event", "type": "invoice.paid", "created": 1}',
        '{"id": "evt_1", "object": "event", "created": 1}',
        '{"id": "evt_1", "object": "event", "type": "x.y", "created": "1"}',
        '{"id": "evt_1", "object": "customer", "type": "x.y", "created": 1}',
        '{"id": "evt_1", "object": "event", "type": "invoice.paid", "created": 1}',
        event("invoice.paid", invoice_object(amount_due="1500")),
        event("customer.subscription.created", subscription_object(items=None)),
    ],
)
def test_a_signed_body_that_is_not_a_readable_event_is_refused(body: str) -> None:
    with pytest.raises(InvalidSignature, match="not a Stripe event"):
        verify(body)


def test_a_subscription_event_reads_the_period_end_from_the_item() -> None:
    # An older top-level value is present too, and must lose to the item's.
    body = event(
        "customer.subscription.updated",
        subscription_object(current_period_end=NOW + 1, cancel_at_period_end=True),
    )
    result = verify(body)
    assert result.invoice is None
    assert result.checkout is None
    sub = result.subscription
    assert sub is not None
    assert sub.id == "sub_123"
    assert sub.customer_id == "cus_123"
    assert sub.status == "active"
    assert sub.price_id == "price_pro"
    assert sub.item_id == "si_123"
    assert sub.currency == "eur"
    assert sub.current_period_end == datetime.fromtimestamp(PERIOD_END, tz=UTC)
    assert sub.cancel_at_period_end is True
    assert sub.trial_end is None
    assert sub.user_id == "user-1"


def test_an_invoice_event_reads_the_subscription_from_its_parent() -> None:
    result = verify(event("invoice.paid", invoice_object()))
    assert result.subscription is None
    inv = result.invoice
    assert inv is not None
    assert inv.id == "in_123"
    assert inv.subscription_id == "sub_123"
    assert inv.customer_id == "cus_123"
    assert (inv.status, inv.amount_due, inv.amount_paid) == ("paid", 1500, 1500)
    assert inv.currency == "usd"
    assert inv.created == datetime.fromtimestamp(NOW, tz=UTC)
    assert inv.created.tzinfo is UTC
    assert inv.number == "ABC-0001"
    assert inv.hosted_invoice_url == "https://invoice.stripe.com/i/abc"
    assert inv.invoice_pdf == "https://pay.stripe.com/invoice/abc/pdf"


def test_a_checkout_event_reads_customer_subscription_and_user() -> None:
    result = verify(event("checkout.session.completed", checkout_object()))
    assert result.subscription is None
    assert result.invoice is None
    session = result.checkout
    assert session is not None
    assert session.id == "cs_test_123"
    assert session.customer_id == "cus_123"
    assert session.subscription_id == "sub_123"
    assert session.user_id == "user-1"


def test_an_event_of_another_type_keeps_only_id_type_and_created() -> None:
    result = verify(event("payment_intent.succeeded", {"id": "pi_1"}))
    assert result.type == "payment_intent.succeeded"
    assert (result.subscription, result.invoice, result.checkout) == (None, None, None)


def test_invoice_like_event_types_that_are_not_invoices_are_not_read_as_one() -> None:
    result = verify(event("invoiceitem.created", {"id": "ii_1", "object": "x"}))
    assert result.invoice is None


def test_an_event_of_another_api_version_is_read_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = event("invoice.paid", invoice_object(), api_version="2025-03-31.basil")
    with caplog.at_level(logging.WARNING, logger="strata.stripe"):
        result = verify(body)
    assert result.invoice is not None
    assert "2025-03-31.basil" in caplog.text
    assert API_VERSION in caplog.text


def test_an_event_of_the_pinned_api_version_logs_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="strata.stripe"):
        verify(SUBSCRIPTION_EVENT)
    assert caplog.text == ""
