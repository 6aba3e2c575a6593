"""Stripe JSON to snapshots: current shapes first, old shapes as a fallback only,
strict about the fields that matter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.adapters.stripe.objects import (
    MalformedStripeObject,
    parse_checkout_session,
    parse_event,
    parse_invoice,
    parse_subscription,
)
from tests.unit.adapters.test_stripe_webhooks import (
    NOW,
    PERIOD_END,
    checkout_object,
    invoice_object,
    subscription_object,
)


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def item(sub: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = sub["items"]["data"][0]
    return first


def test_the_top_level_period_end_is_read_only_when_the_item_lacks_one() -> None:
    sub = subscription_object(current_period_end=NOW + 5)
    del item(sub)["current_period_end"]
    assert parse_subscription(sub).current_period_end == at(NOW + 5)


def test_a_subscription_with_no_period_end_anywhere_has_none() -> None:
    sub = subscription_object()
    item(sub)["current_period_end"] = None
    assert parse_subscription(sub).current_period_end is None


def test_the_currency_falls_back_to_the_subscription_and_is_lower_case() -> None:
    sub = subscription_object(currency="USD")
    del item(sub)["price"]["currency"]
    assert parse_subscription(sub).currency == "usd"


def test_a_trial_end_is_a_utc_datetime() -> None:
    trial = parse_subscription(subscription_object(trial_end=PERIOD_END)).trial_end
    assert trial == at(PERIOD_END)
    assert trial is not None
    assert trial.tzinfo is UTC


def test_an_expanded_customer_is_read_by_its_id() -> None:
    sub = subscription_object(customer={"id": "cus_x", "object": "customer"})
    assert parse_subscription(sub).customer_id == "cus_x"


def test_a_subscription_without_metadata_has_no_user() -> None:
    assert parse_subscription(subscription_object(metadata={})).user_id is None
    assert parse_subscription(subscription_object(metadata=None)).user_id is None


def test_extra_fields_are_ignored() -> None:
    sub = subscription_object(billing_mode={"type": "flexible"}, brand_new_field=[1])
    assert parse_subscription(sub).id == "sub_123"


@pytest.mark.parametrize(
    "change",
    [
        {"id": None},
        {"id": ""},
        {"status": 3},
        {"customer": None},
        {"customer": 42},
        {"items": {"data": []}},
        {"items": {"data": "x"}},
        {"cancel_at_period_end": "yes"},
        {"trial_end": True},
        {"trial_end": 10**20},
        {"object": "invoice"},
        {"metadata": {"user_id": 7}},
    ],
)
def test_a_malformed_subscription_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(MalformedStripeObject):
        parse_subscription(subscription_object(**change))


def test_a_subscription_item_without_a_price_id_is_refused() -> None:
    sub = subscription_object()
    item(sub)["price"] = {"currency": "usd"}
    with pytest.raises(MalformedStripeObject, match=r"items\.data\[0\]\.price\.id"):
        parse_subscription(sub)


def test_an_old_invoice_names_its_subscription_at_the_top_level() -> None:
    inv = invoice_object(subscription="sub_old")
    del inv["parent"]
    assert parse_invoice(inv).subscription_id == "sub_old"


def test_the_parent_wins_over_a_top_level_subscription() -> None:
    assert parse_invoice(invoice_object(subscription="sub_old")).subscription_id == (
        "sub_123"
    )


def test_an_invoice_outside_any_subscription_has_none() -> None:
    inv = invoice_object(parent=None)
    assert parse_invoice(inv).subscription_id is None


def test_a_draft_invoice_has_no_number_or_urls() -> None:
    inv = invoice_object(
        status="draft", number=None, hosted_invoice_url=None, invoice_pdf=None
    )
    parsed = parse_invoice(inv)
    assert (parsed.number, parsed.hosted_invoice_url, parsed.invoice_pdf) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    "change",
    [
        {"amount_due": "1500"},
        {"amount_due": True},
        {"amount_paid": None},
        {"created": 1.5},
        {"currency": None},
        {"status": None},
        {"parent": "sub_123"},
        {"parent": {"subscription_details": {"subscription": 5}}},
    ],
)
def test_a_malformed_invoice_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(MalformedStripeObject):
        parse_invoice(invoice_object(**change))


def test_a_checkout_session_with_an_expanded_subscription_is_read_by_its_id() -> None:
    session = checkout_object(subscription={"id": "sub_x", "object": "subscription"})
    assert parse_checkout_session(session).subscription_id == "sub_x"


def test_a_checkout_session_falls_back_to_the_metadata_user() -> None:
    session = checkout_object(client_reference_id=None, metadata={"user_id": "u-9"})
    assert parse_checkout_session(session).user_id == "u-9"


def test_an_unfinished_checkout_session_may_lack_customer_and_subscription() -> None:
    parsed = parse_checkout_session(checkout_object(customer=None, subscription=None))
    assert (parsed.customer_id, parsed.subscription_id) == (None, None)


def test_the_malformed_field_is_named_without_its_value() -> None:
    with pytest.raises(MalformedStripeObject) as caught:
        parse_invoice(invoice_object(amount_due="secret-looking-value"))
    assert "invoice.amount_due" in str(caught.value)
    assert "secret-looking-value" not in str(caught.value)


def test_an_event_without_data_for_a_type_that_needs_it_is_refused() -> None:
    with pytest.raises(MalformedStripeObject, match=r"event\.data"):
        parse_event({"id": "evt_1", "type": "invoice.paid", "created": NOW})


@pytest.mark.parametrize("event_id", ["evt", "ev_1", "evt_" + "x" * 251, "evt_1/2"])
def test_an_event_id_that_is_not_stripes_is_refused(event_id: str) -> None:
    with pytest.raises(MalformedStripeObject, match=r"event\.id"):
        parse_event({"id": event_id, "type": "invoice.paid", "created": NOW})


def test_an_unhandled_type_keeps_only_the_envelope_whatever_its_object() -> None:
    # invoice.upcoming's invoice has no id: it must not fail the delivery.
    event = parse_event(
        {
            "id": "evt_1",
            "type": "invoice.upcoming",
            "created": NOW,
            "data": {"object": {"object": "invoice", "amount_due": 100}},
        }
    )
    assert (event.type, event.invoice, event.subscription) == (
        "invoice.upcoming",
        None,
        None,
    )


def _event(event_type: str, obj: dict[str, object]) -> dict[str, object]:
    return {"id": "evt_1", "type": event_type, "created": NOW, "data": {"object": obj}}


def test_refund_dispute_and_customer_deleted_events_are_read() -> None:
    refunded = parse_event(
        _event(
            "charge.refunded",
            {
                "id": "ch_1",
                "object": "charge",
                "customer": "cus_1",
                "amount": 1500,
                "amount_refunded": 500,
                "currency": "USD",
            },
        )
    )
    disputed = parse_event(
        _event(
            "charge.dispute.closed",
            {
                "id": "dp_1",
                "object": "dispute",
                "charge": "ch_1",
                "amount": 1500,
                "currency": "usd",
                "status": "lost",
            },
        )
    )
    deleted = parse_event(
        _event("customer.deleted", {"id": "cus_1", "object": "customer"})
    )

    assert refunded.charge is not None
    assert (refunded.charge.customer_id, refunded.charge.amount_refunded) == (
        "cus_1",
        500,
    )
    assert refunded.charge.currency == "usd"
    assert disputed.dispute is not None
    assert (disputed.dispute.charge_id, disputed.dispute.status) == ("ch_1", "lost")
    assert deleted.customer_id == "cus_1"
