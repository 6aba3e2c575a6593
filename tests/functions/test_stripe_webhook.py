"""Stripe's webhook through its Lambda handler: the signature over the raw body,
each event applied once and in order, and the grace period a failed renewal opens.

The events are the local Stripe emulator's own (held back from the handler while
they are made, then delivered here, signed with the local webhook secret) or made
here in Stripe's shape where a test needs one the emulator does not send.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest

from core.adapters.tokens import JwtTokenCodec
from core.domain.user import Role, User
from functions.runtime.settings import get_settings
from local.harness import Reply
from tests.conftest import aws_client
from tests.fakes import FakeClock
from tests.functions.conftest import Api, assert_problem, metric_counts
from tests.stripe_local import StripeControl, deliver, sign

# The tests read the processed-event records in DynamoDB: the handlers run on moto.
pytestmark = [pytest.mark.usefixtures("stripe"), pytest.mark.moto]


# -- helpers ---------------------------------------------------------------------------


def tasks_table_ids(prefix: str) -> list[str]:
    """Ids in the tasks table that start with ``prefix`` (a test may scan)."""
    table = get_settings().tasks_table
    items = aws_client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(
        item["id"]["S"] for item in items if item["id"]["S"].startswith(prefix)
    )


def stripe_events_stored() -> list[str]:
    return tasks_table_ids("STRIPE_EVENT#")


def email_tasks() -> list[str]:
    return tasks_table_ids("stripe-")


def stored(api: Api, username: str) -> User:
    user: User | None = api.container.users.get_by_username(username)
    assert user is not None
    return user


def held_purchase(
    api: Api, stripe: StripeControl, username: str = "payer01", plan: str = "pro"
) -> tuple[str, dict[str, bytes]]:
    """``username`` buys ``plan`` while the webhooks are held back; their cookie and
    the held event bodies by type."""
    cookie = api.as_(username, Role.ADMIN)
    with stripe.holding() as held:
        reply = api.call("billing_checkout", json_body={"plan": plan}, cookies=[cookie])
        assert reply.status == 200, reply.text
        stripe.pay(reply.json()["url"])
    bodies = {json.loads(body)["type"]: body for body, _ in held}
    assert set(bodies) == {
        "customer.subscription.created",
        "invoice.paid",
        "customer.subscription.updated",
        "checkout.session.completed",
    }
    assert stored(api, username).billing.subscription is None
    return cookie, bodies


def send(body: bytes | str, **options: Any) -> Reply:
    """Deliver ``body`` freshly signed with the local secret."""
    return deliver(body, sign(body), **options)


def event(
    event_type: str, data: dict[str, Any], event_id: str = "evt_made_here_001"
) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "data": {"object": data},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
    )


def assert_nothing_stored(api: Api, username: str, before: User) -> None:
    assert stripe_events_stored() == []
    assert email_tasks() == []
    assert stored(api, username) == before


# -- signatures ------------------------------------------------------------------------


def test_a_validly_signed_event_is_applied(api: Api, stripe: StripeControl) -> None:
    _, bodies = held_purchase(api, stripe)
    # The event that says the paid subscription is active (it was created
    # incomplete, as Stripe makes a Checkout subscription).
    body = bodies["customer.subscription.updated"]
    event_id = json.loads(body)["id"]

    reply = send(body)

    assert reply.status == 200, reply.text
    assert reply.json() == {"received": True, "outcome": "applied"}
    subscription = stored(api, "payer01").billing.subscription
    assert subscription is not None
    assert (subscription.plan_key, subscription.status.value) == ("pro", "active")
    assert stripe_events_stored() == [f"STRIPE_EVENT#{event_id}"]
    assert email_tasks() == [f"stripe-{event_id}"]
    task = api.container.tasks.get(f"stripe-{event_id}")
    assert task.payload["template"] == "subscription_started"
    assert task.payload["to"] == "payer01@example.com"


def test_an_event_signed_with_another_secret_is_a_400_and_stores_nothing(
    api: Api, stripe: StripeControl
) -> None:
    _, bodies = held_purchase(api, stripe)
    body = bodies["customer.subscription.created"]
    before = stored(api, "payer01")
    forged = sign(body, secret="whsec_not_the_endpoints_secret_0123456789")

    reply = deliver(body, forged)

    assert_problem(reply, 400, "invalid_signature")
    assert_nothing_stored(api, "payer01", before)


def test_a_re_serialized_body_no_longer_matches_its_signature(
    api: Api, stripe: StripeControl
) -> None:
    _, bodies = held_purchase(api, stripe)
    body = bodies["customer.subscription.created"]
    before = stored(api, "payer01")
    signature = sign(body)
    # The same event, parsed and written again (as a framework would): compact.
    compact = json.dumps(json.loads(body), separators=(",", ":"))
    assert json.loads(compact) == json.loads(body)

    reply = deliver(compact, signature)

    assert_problem(reply, 400, "invalid_signature")
    assert_nothing_stored(api, "payer01", before)
    # The original bytes with the same signature pass.
    assert deliver(body, signature).status == 200


def test_a_signature_older_than_five_minutes_is_refused(
    api: Api, stripe: StripeControl
) -> None:
    _, bodies = held_purchase(api, stripe)
    body = bodies["customer.subscription.created"]
    before = stored(api, "payer01")

    stale = deliver(body, sign(body, timestamp=int(time.time()) - 301))

    assert_problem(stale, 400, "invalid_signature")
    assert_nothing_stored(api, "payer01", before)
    recent = deliver(body, sign(body, timestamp=int(time.time()) - 240))
    assert recent.status == 200, recent.text


def test_a_base64_encoded_body_as_api_gateway_may_send_it_is_verified_as_sent(
    api: Api, stripe: StripeControl
) -> None:
    _, bodies = held_purchase(api, stripe)
    body = bodies["customer.subscription.created"]

    reply = send(body, base64_body=True)

    assert reply.status == 200, reply.text
    assert reply.json()["outcome"] == "applied"
    assert stored(api, "payer01").billing.subscription is not None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbled",
        "t=1700000000",
        "v1=00ff",
        "t=abc,v1=00ff",
        "t=1,t=2,v1=00ff",
    ],
)
def test_a_missing_or_garbled_signature_header_is_a_400_and_stores_nothing(
    api: Api, stripe: StripeControl, header: str | None
) -> None:
    _, bodies = held_purchase(api, stripe)
    before = stored(api, "payer01")

    reply = deliver(bodies["customer.subscription.created"], header)

    assert_problem(reply, 400, "invalid_signature")
    assert_nothing_stored(api, "payer01", before)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"id": "evt_1", "type": "invoice.paid"}),
        event("customer.subscription.updated", {"id": "sub_1"}),
    ],
    ids=["not-json", "not-an-object", "no-data", "half-a-subscription"],
)
def test_a_signed_body_that_is_not_a_stripe_event_is_a_400(api: Api, body: str) -> None:
    assert_problem(send(body), 400, "invalid_signature")
    assert stripe_events_stored() == []


# -- once, in order --------------------------------------------------------------------


def test_the_same_event_three_times_changes_state_once_and_queues_one_email(
    api: Api, stripe: StripeControl
) -> None:
    _, bodies = held_purchase(api, stripe)
    body = bodies["customer.subscription.updated"]
    event_id = json.loads(body)["id"]
    version = stored(api, "payer01").version

    outcomes = [send(body).json()["outcome"] for _ in range(3)]

    assert outcomes == ["applied", "duplicate", "duplicate"]
    assert stored(api, "payer01").version == version + 1
    assert email_tasks() == [f"stripe-{event_id}"]
    assert stripe_events_stored() == [f"STRIPE_EVENT#{event_id}"]


def test_stripe_redelivering_an_event_is_acknowledged_as_a_duplicate(
    api: Api, stripe: StripeControl
) -> None:
    cookie = api.as_("payer01")
    reply = api.call("billing_checkout", json_body={"plan": "pro"}, cookies=[cookie])
    stripe.pay(reply.json()["url"])
    stripe.flush()
    created = stripe.events("customer.subscription.created")[0]["id"]
    version = stored(api, "payer01").version
    emails = email_tasks()

    stripe.replay(created)
    stripe.replay(created)
    stripe.flush()

    replays = [d for d in stripe.relay.deliveries if d.event_id == created]
    assert [(d.status, d.outcome) for d in replays] == [
        (200, "applied"),
        (200, "duplicate"),
        (200, "duplicate"),
    ]
    assert stored(api, "payer01").version == version
    assert email_tasks() == emails


def test_events_delivered_newest_first_leave_the_newest_state(
    api: Api, stripe: StripeControl
) -> None:
    cookie = api.as_("payer01")
    with stripe.holding() as held:
        reply = api.call(
            "billing_checkout", json_body={"plan": "pro"}, cookies=[cookie]
        )
        stripe.pay(reply.json()["url"])
        stripe.flush()
        subscription_id = json.loads(held[0][0])["data"]["object"]["id"]
        # An hour later the customer cancels in the portal (at Stripe), an hour
        # after that changes their mind about the interval; our API saw neither.
        stripe.advance(hours=1)
        api.container.payments.set_cancel_at_period_end(
            subscription_id, True, idempotency_key="portal-cancel"
        )
        stripe.advance(hours=1)
        stripe.control("pause", subscription=subscription_id)
    events = [json.loads(body) for body, _ in held]
    assert [e["type"] for e in events] == [
        "customer.subscription.created",
        "invoice.paid",
        "customer.subscription.updated",
        "checkout.session.completed",
        "customer.subscription.updated",
        "customer.subscription.paused",
    ]

    outcomes = [send(body).json()["outcome"] for body, _ in reversed(held)]

    assert outcomes == ["applied"] * 6
    subscription = stored(api, "payer01").billing.subscription
    assert subscription is not None
    assert subscription.status.value == "paused"
    assert subscription.cancel_at_period_end is True
    assert me(api, cookie)["plan"] == "free"
    # In order, the same events end in the same state.
    assert stripe.subscription(subscription_id)["status"] == "paused"


def test_an_event_type_strata_does_not_act_on_is_acknowledged_and_ignored(
    api: Api,
) -> None:
    api.user("payer01")
    body = event(
        "customer.created",
        {"id": "cus_123", "object": "customer", "email": "payer01@example.com"},
    )

    reply = send(body)

    assert reply.status == 200, reply.text
    assert reply.json() == {"received": True, "outcome": "ignored"}
    assert stripe_events_stored() == []


def test_an_unhandled_invoice_event_without_an_invoice_id_is_ignored(
    api: Api,
) -> None:
    upcoming = {
        "object": "invoice",
        "customer": "cus_123",
        "status": "draft",
        "amount_due": 1500,
        "amount_paid": 0,
        "currency": "usd",
        "created": int(time.time()),
    }

    reply = send(event("invoice.upcoming", upcoming))

    assert reply.status == 200, reply.text
    assert reply.json()["outcome"] == "ignored"


def test_an_event_for_a_customer_strata_does_not_know_is_recorded_and_ignored(
    api: Api, stripe: StripeControl
) -> None:
    _, bodies = held_purchase(api, stripe)
    # Another app on the same Stripe account: metadata and customer unknown here.
    data = json.loads(bodies["customer.subscription.created"])["data"]["object"]
    data = {**data, "customer": "cus_someone_else", "metadata": {}}

    reply = send(event("customer.subscription.created", data, "evt_not_ours"))

    assert reply.status == 200, reply.text
    assert reply.json()["outcome"] == "ignored"
    assert stripe_events_stored() == ["STRIPE_EVENT#evt_not_ours"]
    assert email_tasks() == []
    assert stored(api, "payer01").billing.subscription is None


# -- the grace period ------------------------------------------------------------------


def me(api: Api, cookie: str) -> dict[str, Any]:
    reply = api.call("me", cookies=[cookie])
    assert reply.status == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_a_failed_renewal_keeps_the_plan_through_the_grace_period_then_drops_it(
    api: Api, stripe: StripeControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookie = api.as_("payer01", Role.ADMIN)
    reply = api.call("billing_checkout", json_body={"plan": "pro"}, cookies=[cookie])
    stripe.pay(reply.json()["url"])
    stripe.flush()
    customer_id = stored(api, "payer01").billing.customer_id
    assert customer_id

    # The renewal a month on fails.
    stripe.fail_next_payment(customer_id)
    stripe.advance(days=32)
    stripe.flush()

    assert [(d.event_type, d.status) for d in stripe.relay.deliveries[4:]] == [
        ("customer.subscription.updated", 200),
        ("invoice.payment_failed", 200),
    ]
    subscription = stored(api, "payer01").billing.subscription
    assert subscription is not None
    assert subscription.status.value == "past_due"
    assert subscription.past_due_since is not None
    failed_at = subscription.past_due_since
    grace = timedelta(days=api.container.settings.billing_grace_days)
    (failure_email,) = [
        api.container.tasks.get(task_id)
        for task_id in email_tasks()
        if api.container.tasks.get(task_id).payload["template"] == "payment_failed"
    ]
    assert failure_email.payload["context"]["grace_until"] == (
        (failed_at + grace).date().isoformat()
    )
    assert failure_email.payload["context"]["amount"] == "15.00 USD"

    # The API's clock moves with the emulator's (as `strata stripe advance` does
    # through the offset file): the day after the failure, inside the grace.
    clock = FakeClock(failed_at + timedelta(days=1))
    monkeypatch.setattr(api.container, "clock", clock)
    secret = api.container.settings.jwt_secret_value()
    monkeypatch.setattr(api.container, "tokens", JwtTokenCodec(secret, now=clock.now))
    cookie = api.log_in("payer01")

    inside = me(api, cookie)

    assert inside["plan"] == "pro"
    assert inside["subscription_status"] == "past_due"
    assert inside["entitlements"]["features"] == ["users_export"]
    assert inside["entitlements"]["grace_until"] is not None
    assert api.call("export_users", cookies=[cookie]).status == 202

    # A second after the grace period: free.
    clock.set(failed_at + grace + timedelta(seconds=1))
    cookie = api.log_in("payer01")

    after = me(api, cookie)

    assert after["plan"] == "free"
    assert after["subscription_status"] == "past_due"
    assert after["entitlements"]["features"] == []
    assert after["entitlements"]["grace_until"] is None
    assert_problem(api.call("export_users", cookies=[cookie]), 402, "plan_required")

    # Paying the open invoice brings the plan back.
    open_invoice = next(
        i
        for i in api.call("billing_invoices", cookies=[cookie]).json()["items"]
        if i["status"] == "open"
    )
    stripe.pay(open_invoice["hosted_invoice_url"])
    stripe.flush()

    restored = me(api, cookie)
    assert (restored["plan"], restored["subscription_status"]) == ("pro", "active")


def subscription_data(user_id: str, **changes: Any) -> dict[str, Any]:
    """A subscription object in Stripe's shape (API 2026-10-28)."""
    now = int(time.time())
    data = {
        "id": "sub_made_here_001",
        "object": "subscription",
        "customer": "cus_made_here_001",
        "status": "active",
        "currency": "usd",
        "cancel_at_period_end": False,
        "trial_end": None,
        "metadata": {"user_id": user_id},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": "si_made_here_001",
                    "object": "subscription_item",
                    "current_period_end": now + 30 * 86_400,
                    "price": {"id": "price_pro_month_usd", "currency": "usd"},
                }
            ],
        },
    }
    data.update(changes)
    return data


def test_an_invoice_event_for_a_subscription_stripe_does_not_know_is_ignored(
    api: Api, stripe: StripeControl
) -> None:
    held_purchase(api, stripe)
    customer_id = stored(api, "payer01").billing.customer_id
    invoice = {
        "id": "in_made_here_001",
        "object": "invoice",
        "customer": customer_id,
        "status": "paid",
        "amount_due": 1500,
        "amount_paid": 1500,
        "currency": "usd",
        "created": int(time.time()),
        "parent": {"subscription_details": {"subscription": "sub_gone_long_ago"}},
    }

    reply = send(event("invoice.paid", invoice, "evt_about_a_gone_subscription"))

    assert reply.status == 200, reply.text
    assert reply.json()["outcome"] == "ignored"


def test_a_signed_event_with_an_id_over_the_key_size_limit_is_a_400(
    api: Api,
) -> None:
    user = api.user("payer01")
    body = event(
        "customer.subscription.created", subscription_data(user.id), "evt_" + "x" * 3000
    )

    assert_problem(send(body), 400, "invalid_signature")


def test_each_delivery_is_counted_by_type_and_outcome_and_a_completed_checkout_once(
    api: Api, stripe: StripeControl, capsys: pytest.CaptureFixture[str]
) -> None:
    _, bodies = held_purchase(api, stripe)
    capsys.readouterr()
    body = bodies["checkout.session.completed"]

    send(body)
    send(body)
    send(event("customer.created", {"id": "cus_other", "object": "customer"}))

    found = metric_counts(capsys.readouterr().out, "type", "outcome")
    assert found == {
        ("WebhookEvents", "checkout.session.completed", "applied"): 1,
        ("WebhookEvents", "checkout.session.completed", "duplicate"): 1,
        ("WebhookEvents", "other", "ignored"): 1,
        ("CheckoutsCompleted", None, None): 1,
    }
