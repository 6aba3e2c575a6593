"""Billing's defences: a user reaches only their own subscription, customer and
invoices, whatever they send; the webhook acts only on events Stripe signed; no
Stripe secret reaches a response or a log line. Through the Lambda handlers, on
moto and the local Stripe emulator."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from pydantic import SecretStr

from core.adapters.cursors import HmacCursorCodec
from core.domain.user import User
from functions.catalog import ENDPOINTS
from functions.runtime.container import _payments
from functions.runtime.settings import LOCAL_STRIPE_API_KEY, LOCAL_STRIPE_WEBHOOK_SECRET
from local.dev_app import build_app
from local.harness import Reply
from tests.security.conftest import Api, assert_problem
from tests.stripe_local import StripeControl, deliver, sign

pytestmark = pytest.mark.usefixtures("stripe")

BILLING = [e for e in ENDPOINTS if e.path.startswith("/api/v1/billing")]
# What would name someone else's billing objects, in any casing or spelling.
FOREIGN_NAMES = ("user", "customer", "subscription", "account", "owner", "invoice")


def stored(api: Api, username: str) -> User:
    user: User | None = api.container.users.get_by_username(username)
    assert user is not None
    return user


def subscriber(api: Api, stripe: StripeControl, username: str) -> str:
    cookie = api.as_(username)
    reply = api.call("billing_checkout", json_body={"plan": "pro"}, cookies=[cookie])
    assert reply.status == 200, reply.text
    stripe.pay(reply.json()["url"])
    stripe.flush()
    assert stored(api, username).billing.subscription is not None
    return cookie


# -- no request names whose billing it is ------------------------------------------


def test_no_billing_request_can_name_a_user_customer_or_subscription() -> None:
    document = build_app().openapi()
    schemas = document["components"]["schemas"]
    for endpoint in BILLING:
        operation = document["paths"][endpoint.path][endpoint.method.lower()]
        names = [p["name"] for p in operation.get("parameters", [])]
        body = operation.get("requestBody", {}).get("content", {})
        for media in body.values():
            ref = media["schema"].get("$ref", "")
            schema = schemas[ref.rsplit("/", 1)[-1]] if ref else media["schema"]
            names += list(schema.get("properties", {}))
            # Anything else is refused: no field can be smuggled in.
            assert schema.get("additionalProperties") is False, endpoint.name
        assert "{" not in endpoint.path, endpoint.name
        assert not [n for n in names if any(f in n.lower() for f in FOREIGN_NAMES)], (
            endpoint.name,
            names,
        )


@pytest.mark.parametrize(
    "extra",
    [
        {"user_id": "alice's id"},
        {"customer": "cus_alice"},
        {"customer_id": "cus_alice"},
        {"subscription_id": "sub_alice"},
    ],
    ids=lambda e: next(iter(e)),
)
@pytest.mark.parametrize("name", ["billing_checkout", "billing_change"])
def test_a_body_naming_someone_elses_billing_is_refused(
    api: Api, stripe: StripeControl, name: str, extra: dict[str, str]
) -> None:
    alice = subscriber(api, stripe, "alice001")
    alice_user = stored(api, "alice001")
    mallory = api.as_("mallory1")
    fields = {
        k: alice_user.id
        if k == "user_id"
        else (
            alice_user.billing.customer_id
            if k.startswith("customer")
            else alice_user.billing.subscription.id  # type: ignore[union-attr]
        )
        for k in extra
    }
    before = len(stripe.api_requests())

    reply = api.call(name, json_body={"plan": "business", **fields}, cookies=[mallory])

    assert_problem(reply, 422, "invalid_input")
    assert len(stripe.api_requests()) == before
    assert stored(api, "alice001") == alice_user
    assert api.call("me", cookies=[alice]).json()["plan"] == "pro"


@pytest.mark.parametrize("name", ["billing_cancel", "billing_resume", "billing_portal"])
def test_the_subscription_actions_act_on_the_callers_own_whatever_the_request_says(
    api: Api, stripe: StripeControl, name: str
) -> None:
    subscriber(api, stripe, "alice001")
    alice_user = stored(api, "alice001")
    subscription_id = alice_user.billing.subscription.id  # type: ignore[union-attr]
    mallory = api.as_("mallory1")
    smuggled = {
        "subscription_id": subscription_id,
        "customer": alice_user.billing.customer_id,
        "user_id": alice_user.id,
    }
    before = len(stripe.api_requests())

    reply = api.call(
        name,
        json_body=smuggled,
        query={k: str(v) for k, v in smuggled.items()},
        cookies=[mallory],
    )

    expected = "no_billing_account" if name == "billing_portal" else "no_subscription"
    assert_problem(reply, 409, expected)
    assert len(stripe.api_requests()) == before
    assert stripe.subscription(subscription_id)["cancel_at_period_end"] is False
    assert stored(api, "alice001") == alice_user


def test_a_portal_session_is_for_the_callers_own_customer(
    api: Api, stripe: StripeControl
) -> None:
    subscriber(api, stripe, "alice001")
    mallory = subscriber(api, stripe, "mallory1")
    alice_customer = stored(api, "alice001").billing.customer_id

    reply = api.call(
        "billing_portal",
        json_body={"customer": alice_customer},
        query={"customer": str(alice_customer)},
        cookies=[mallory],
    )

    assert reply.status == 200, reply.text
    portal_id = reply.json()["url"].rsplit("/", 1)[1]
    portal = stripe.emulator.state.portal_sessions[portal_id]
    assert portal["customer"] == stored(api, "mallory1").billing.customer_id
    assert portal["customer"] != alice_customer


# -- invoices --------------------------------------------------------------------


def alice_and_mallory_with_invoices(
    api: Api, stripe: StripeControl
) -> tuple[str, str, list[str]]:
    """Both subscribed; Alice has three invoices. Their cookies, Alice's invoice ids
    newest first."""
    alice = subscriber(api, stripe, "alice001")
    mallory = subscriber(api, stripe, "mallory1")
    subscription_id = stored(api, "alice001").billing.subscription.id  # type: ignore[union-attr]
    stripe.renew(subscription_id)
    stripe.renew(subscription_id)
    stripe.flush()
    reply = api.call("billing_invoices", cookies=[alice])
    ids = [invoice["id"] for invoice in reply.json()["items"]]
    assert len(ids) == 3
    return alice, mallory, ids


def test_a_user_lists_only_their_own_invoices_whatever_the_query_says(
    api: Api, stripe: StripeControl
) -> None:
    _, mallory, alices = alice_and_mallory_with_invoices(api, stripe)
    alice_customer = str(stored(api, "alice001").billing.customer_id)

    reply = api.call(
        "billing_invoices",
        query={"customer": alice_customer, "user_id": stored(api, "alice001").id},
        cookies=[mallory],
    )

    assert reply.status == 200, reply.text
    ids = [invoice["id"] for invoice in reply.json()["items"]]
    assert len(ids) == 1
    assert not set(ids) & set(alices)


def test_another_users_cursor_is_refused_and_reveals_nothing(
    api: Api, stripe: StripeControl
) -> None:
    alice, mallory, _ = alice_and_mallory_with_invoices(api, stripe)
    page = api.call("billing_invoices", cookies=[alice], query={"limit": "1"}).json()
    before = len(stripe.api_requests())

    reply = api.call(
        "billing_invoices",
        cookies=[mallory],
        query={"limit": "1", "cursor": page["next_cursor"]},
    )

    body = assert_problem(reply, 422, "invalid_cursor")
    assert "in_" not in json.dumps(body)
    assert len(stripe.api_requests()) == before


def test_a_cursor_forged_for_another_users_invoice_is_refused(
    api: Api, stripe: StripeControl
) -> None:
    alice_cookie, mallory, alices = alice_and_mallory_with_invoices(api, stripe)
    alice = stored(api, "alice001")
    mallory_user = stored(api, "mallory1")
    # Alice's invoice in a cursor scoped to Mallory: only the server's key signs.
    forgeries = [
        HmacCursorCodec("a guessed key, 32 characters long!!").encode(
            {"after": alices[0]}, f"invoices:{mallory_user.id}"
        ),
        # A real cursor of Alice's, replayed for Mallory's scope by hand.
        api.call(
            "billing_invoices", cookies=[alice_cookie], query={"limit": "1"}
        ).json()["next_cursor"],
        # Mallory's own cursor shape with Alice's invoice spliced in, unsigned.
        json.dumps({"after": alices[0], "scope": f"invoices:{alice.id}"}),
    ]
    before = len(stripe.api_requests())

    for cursor in forgeries:
        reply = api.call(
            "billing_invoices", cookies=[mallory], query={"cursor": cursor}
        )
        assert_problem(reply, 422, "invalid_cursor")
    assert len(stripe.api_requests()) == before


# -- the webhook acts only on what Stripe signed -------------------------------------


def test_a_forged_event_granting_a_plan_is_refused_and_changes_nothing(
    api: Api, stripe: StripeControl
) -> None:
    cookie = api.as_("mallory1")
    mallory = stored(api, "mallory1")
    now = int(time.time())
    forged = json.dumps(
        {
            "id": "evt_forged_0001",
            "object": "event",
            "type": "customer.subscription.created",
            "created": now,
            "data": {
                "object": {
                    "id": "sub_forged_0001",
                    "object": "subscription",
                    "customer": "cus_forged_0001",
                    "status": "active",
                    "currency": "usd",
                    "cancel_at_period_end": False,
                    "metadata": {"user_id": mallory.id},
                    "items": {
                        "object": "list",
                        "data": [
                            {
                                "id": "si_forged_0001",
                                "current_period_end": now + 10 * 365 * 86_400,
                                "price": {"id": "price_business_year_usd"},
                            }
                        ],
                    },
                }
            },
        }
    )
    attempts = [
        deliver(forged, None),
        deliver(forged, ""),
        deliver(forged, sign(forged, secret="whsec_guessed_0123456789abcdef")),
        # A signature of another body, or with the scheme Stripe retired.
        deliver(forged, sign("{}")),
        deliver(forged, sign(forged).replace("v1=", "v0=")),
        # A near miss of the endpoint's own secret.
        deliver(forged, sign(forged, secret=LOCAL_STRIPE_WEBHOOK_SECRET + "x")),
    ]

    for reply in attempts:
        assert_problem(reply, 400, "invalid_signature")
    assert stored(api, "mallory1") == mallory
    assert api.call("me", cookies=[cookie]).json()["plan"] == "free"
    assert not api.container.billing.was_processed("evt_forged_0001")


def test_a_captured_event_replayed_later_is_refused(
    api: Api, stripe: StripeControl
) -> None:
    cookie = api.as_("alice001")
    with stripe.holding() as held:
        reply = api.call(
            "billing_checkout", json_body={"plan": "pro"}, cookies=[cookie]
        )
        stripe.pay(reply.json()["url"])
    body = held[0][0]
    # Captured with its signature of ten minutes ago.
    old_signature = sign(body, timestamp=int(time.time()) - 600)

    assert_problem(deliver(body, old_signature), 400, "invalid_signature")
    assert stored(api, "alice001").billing.subscription is None


# -- secrets stay secret -------------------------------------------------------------


def secrets_in(text: str) -> list[str]:
    return [s for s in (LOCAL_STRIPE_API_KEY, LOCAL_STRIPE_WEBHOOK_SECRET) if s in text]


def reply_text(reply: Reply) -> str:
    return json.dumps(reply.raw)


def test_no_response_or_log_line_carries_the_stripe_key_or_the_webhook_secret(
    api: Api, stripe: StripeControl, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    replies: list[Reply] = []
    cookie = api.as_("alice001")
    call = api.call

    replies.append(call("billing_plans"))
    replies.append(
        call("billing_checkout", json_body={"plan": "pro"}, cookies=[cookie])
    )
    stripe.pay(replies[-1].json()["url"])
    stripe.flush()
    replies += _relayed(stripe)
    replies.append(call("billing_portal", cookies=[cookie]))
    replies.append(call("billing_subscription", cookies=[cookie]))
    change = {"plan": "business"}
    replies.append(
        call(
            "billing_change",
            json_body=change,
            cookies=[cookie],
            query={"preview": "true"},
        )
    )
    replies.append(call("billing_change", json_body=change, cookies=[cookie]))
    replies.append(call("billing_cancel", cookies=[cookie]))
    replies.append(call("billing_resume", cookies=[cookie]))
    replies.append(call("billing_invoices", cookies=[cookie]))
    # Failures: bad input, a forged token, a conflict, a forged webhook, Stripe down.
    replies.append(call("billing_checkout", json_body={"plan": "x"}, cookies=[cookie]))
    replies.append(
        call(
            "billing_change",
            json_body={"plan": "pro", "interval": "year", "proration_token": "x.y"},
            cookies=[cookie],
        )
    )
    replies.append(call("billing_change", json_body=change, cookies=[cookie]))
    replies.append(deliver("{}", sign("{}", secret="whsec_wrong_0123456789")))
    replies.append(deliver("{}", "t=1,v1=" + "0" * 64))
    settings = api.container.settings.model_copy(
        update={"stripe_api_base": "http://127.0.0.1:9", "stripe_max_retries": 0}
    )
    api.container.payments = _payments(settings, api.container.clock)
    replies.append(call("billing_portal", cookies=[cookie]))

    statuses = sorted({reply.status for reply in replies})
    assert {200, 400, 409, 422, 503} <= set(statuses), statuses
    for reply in replies:
        assert secrets_in(reply_text(reply)) == [], reply.raw
    for record in caplog.records:
        line = record.getMessage()
        if record.exc_info:
            line += logging.Formatter().formatException(record.exc_info)
        assert secrets_in(line) == [], line
    assert "dependency unavailable" in caplog.text


def _relayed(stripe: StripeControl) -> list[Reply]:
    """The webhook handler's answers to the emulator, as replies."""
    return [
        Reply({"statusCode": d.status, "body": d.body.decode(), "headers": {}})
        for d in stripe.relay.deliveries
    ]


def test_a_key_stripe_refuses_is_a_503_that_quotes_nothing_of_it(
    api: Api, stripe: StripeControl
) -> None:
    wrong = "sk_live_thisisnotthekey0000abcd"
    settings = api.container.settings.model_copy(
        update={"stripe_api_key": SecretStr(wrong)}
    )
    api.container.payments = _payments(settings, api.container.clock)
    cookie = api.as_("alice001")

    reply = api.call("billing_checkout", json_body={"plan": "pro"}, cookies=[cookie])

    assert "abcd" not in reply.text
    assert_problem(reply, 503, "payment_provider_unavailable")


# -- caching -----------------------------------------------------------------------


PRIVATE_BILLING = [e for e in BILLING if e.permissions]


def test_billing_answers_with_a_users_data_are_no_store(
    api: Api, stripe: StripeControl
) -> None:
    cookie = subscriber(api, stripe, "alice001")
    bodies: dict[str, Any] = {
        "billing_change": {"plan": "business"},
        "billing_checkout": {"plan": "business"},
    }

    for endpoint in PRIVATE_BILLING:
        reply = api.call(
            endpoint.name, json_body=bodies.get(endpoint.name), cookies=[cookie]
        )
        assert reply.headers.get("cache-control") == "no-store", endpoint.name
