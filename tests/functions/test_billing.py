"""The billing endpoints through their Lambda handlers, with API Gateway events, on
moto and the local Stripe emulator: its webhooks reach the ``stripe_webhook``
handler in this process (``tests.stripe_local``), so a purchase made on the
emulator's Checkout page shows in ``me`` as it would in AWS."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from core.domain.user import Role, User
from functions.catalog import BY_NAME
from functions.runtime.container import _payments
from local.harness import Reply
from tests.functions.conftest import Api, assert_problem
from tests.stripe_local import StripeControl, invoke_in_any_thread

pytestmark = pytest.mark.usefixtures("stripe")


def checkout(api: Api, cookie: str, plan: str = "pro", **fields: Any) -> Reply:
    return api.call(
        "billing_checkout", json_body={"plan": plan, **fields}, cookies=[cookie]
    )


def buy(
    api: Api, stripe: StripeControl, cookie: str, plan: str = "pro", **fields: Any
) -> dict[str, Any]:
    """Check out ``plan``, pay on the Checkout page, wait for the webhooks; ``me``."""
    reply = checkout(api, cookie, plan, **fields)
    assert reply.status == 200, reply.text
    stripe.pay(reply.json()["url"])
    stripe.flush()
    assert all(d.status == 200 for d in stripe.relay.deliveries), [
        (d.event_type, d.status) for d in stripe.relay.deliveries
    ]
    return me(api, cookie)


def me(api: Api, cookie: str) -> dict[str, Any]:
    reply = api.call("me", cookies=[cookie])
    assert reply.status == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def stored(api: Api, username: str) -> User:
    user: User | None = api.container.users.get_by_username(username)
    assert user is not None
    return user


def subscriber(
    api: Api, stripe: StripeControl, username: str = "payer01", plan: str = "pro"
) -> str:
    """A logged-in user who bought ``plan`` (monthly, in USD); their cookie."""
    cookie = api.as_(username)
    assert buy(api, stripe, cookie, plan)["plan"] == plan
    return cookie


# -- plans -----------------------------------------------------------------------------


def test_the_plans_are_public_and_list_every_price(api: Api) -> None:
    reply = api.call("billing_plans")

    assert reply.status == 200, reply.text
    plans = {plan["key"]: plan for plan in reply.json()["items"]}
    assert list(plans) == [plan.key for plan in api.container.catalog.plans]
    assert plans["free"]["prices"] == []
    pro = plans["pro"]
    assert "users_export" in pro["features"]
    assert {(p["interval"], p["currency"]) for p in pro["prices"]} == {
        ("month", "usd"),
        ("month", "eur"),
        ("year", "usd"),
        ("year", "eur"),
    }
    monthly_usd = next(
        p for p in pro["prices"] if (p["interval"], p["currency"]) == ("month", "usd")
    )
    assert monthly_usd["unit_amount"] == 1500
    assert plans["business"]["bank_transfer"] is True
    assert plans["business"]["trial_days"] == 14
    assert plans["pro"]["bank_transfer"] is False


# -- checkout --------------------------------------------------------------------------


def test_checkout_needs_a_session(api: Api, stripe: StripeControl) -> None:
    reply = api.call("billing_checkout", json_body={"plan": "pro"})

    assert_problem(reply, 401, "not_authenticated")
    assert stripe.api_requests() == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"plan": "pro", "interval": "week"}, "invalid_input"),
        ({"plan": "pro", "currency": "USD"}, "invalid_input"),
        ({"plan": "pro", "currency": "jpy"}, "price_unavailable"),
        ({"plan": "platinum"}, "unknown_plan"),
        ({"plan": "free"}, "unknown_plan"),
        ({"plan": "pro", "payment_method": "cash"}, "invalid_input"),
        (
            {"plan": "pro", "payment_method": "bank_transfer"},
            "bank_transfer_unavailable",
        ),
        ({"plan": "pro", "user_id": "someone-else"}, "invalid_input"),
    ],
)
def test_a_checkout_of_something_not_for_sale_is_a_422_that_calls_no_stripe(
    api: Api, stripe: StripeControl, body: dict[str, Any], code: str
) -> None:
    cookie = api.as_("alice01")

    reply = api.call("billing_checkout", json_body=body, cookies=[cookie])

    assert_problem(reply, 422, code)
    assert stripe.api_requests() == []
    assert stored(api, "alice01").billing.customer_id is None


def test_an_unverified_account_cannot_check_out(
    api: Api, stripe: StripeControl
) -> None:
    api.user("newbie01")
    cookie = api.log_in("newbie01")

    for fields in ({}, {"payment_method": "bank_transfer"}):
        reply = checkout(api, cookie, "business", **fields)
        assert_problem(reply, 403, "email_not_verified")

    assert stripe.api_requests() == []
    assert stored(api, "newbie01").billing.customer_id is None


def test_a_card_checkout_answers_the_checkout_url_and_changes_nothing_yet(
    api: Api, stripe: StripeControl
) -> None:
    cookie = api.as_("alice01")

    reply = checkout(api, cookie, "pro", interval="year", currency="eur")

    assert reply.status == 200, reply.text
    url = reply.json()["url"]
    assert url.startswith(f"{stripe.url}/checkout/cs_test_")
    user = stored(api, "alice01")
    assert user.billing.customer_id is not None
    assert user.billing.subscription is None
    assert me(api, cookie)["plan"] == "free"
    (customer,) = stripe.customers("alice01@example.com")
    assert customer["id"] == user.billing.customer_id
    assert customer["metadata"] == {"user_id": user.id}


def test_paying_on_the_checkout_page_gives_the_plan_once_the_webhooks_land(
    api: Api, stripe: StripeControl
) -> None:
    # An admin: the users export is an admin route that the paid plans include.
    cookie = api.as_("alice01", Role.ADMIN)
    assert_problem(api.call("export_users", cookies=[cookie]), 402, "plan_required")
    started = datetime.now(UTC)

    account = buy(api, stripe, cookie, "pro")

    assert account["plan"] == "pro"
    assert account["subscription_status"] == "active"
    assert account["cancel_at_period_end"] is False
    period_end = datetime.fromisoformat(account["current_period_end"])
    assert 27 <= (period_end - started).days <= 31
    assert account["entitlements"]["features"] == ["users_export"]
    assert account["entitlements"]["limits"] == {"seats": 5, "export_rows": 100000}
    assert account["entitlements"]["grace_until"] is None
    types = [d.event_type for d in stripe.relay.deliveries]
    assert types == [
        "customer.subscription.created",
        "invoice.paid",
        "customer.subscription.updated",
        "checkout.session.completed",
    ]
    assert api.call("export_users", cookies=[cookie]).status == 202


def test_the_business_plan_starts_with_its_trial(
    api: Api, stripe: StripeControl
) -> None:
    cookie = api.as_("alice01")

    account = buy(api, stripe, cookie, "business", currency="eur")

    assert account["plan"] == "business"
    assert account["subscription_status"] == "trialing"
    subscription = api.call("billing_subscription", cookies=[cookie]).json()
    assert subscription["trial_end"] is not None
    assert subscription["currency"] == "eur"


def test_checking_out_the_plan_you_have_is_a_409_and_another_one_too(
    api: Api, stripe: StripeControl
) -> None:
    cookie = subscriber(api, stripe)
    before = len(stripe.api_requests())

    assert_problem(checkout(api, cookie, "pro"), 409, "already_subscribed")
    assert_problem(checkout(api, cookie, "business"), 409, "subscription_exists")
    assert len(stripe.api_requests()) == before


def test_concurrent_checkouts_make_one_stripe_customer(
    api: Api, stripe: StripeControl, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookie = api.as_("alice01")
    replies: list[Reply] = []
    start = threading.Barrier(4)
    # All four have read the user (no customer yet) before any asks Stripe, and
    # Stripe is still serving the first when the other three ask.
    racing = threading.Barrier(5)
    create_customer = api.container.payments.create_customer

    def refused() -> int:
        return sum(1 for r in list(stripe.emulator.requests) if r.get("refused"))

    def hold_stripe() -> None:
        with stripe.emulator.busy():
            racing.wait(timeout=20)
            deadline = time.monotonic() + 20
            while refused() < 3 and time.monotonic() < deadline:
                time.sleep(0.01)

    def create_customer_together(*args: Any, **kwargs: Any) -> str:
        racing.wait(timeout=20)
        customer: str = create_customer(*args, **kwargs)
        return customer

    monkeypatch.setattr(
        api.container.payments, "create_customer", create_customer_together
    )

    def check_out() -> None:
        start.wait()
        replies.append(
            invoke_in_any_thread(
                BY_NAME["billing_checkout"],
                json_body={"plan": "pro"},
                cookies=[cookie],
            )
        )

    threads = [threading.Thread(target=check_out) for _ in range(4)]
    threads.append(threading.Thread(target=hold_stripe))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert [reply.status for reply in replies] == [200] * 4, [r.text for r in replies]
    (customer,) = stripe.customers("alice01@example.com")
    assert stored(api, "alice01").billing.customer_id == customer["id"]
    creates = [
        r
        for r in stripe.api_requests()
        if (r["method"], r["path"]) == ("POST", "/v1/customers") and not r["refused"]
    ]
    # The first, and each refused one's retry (a replay of the first's answer).
    assert len(creates) == 4
    assert len({r["idempotency_key"] for r in creates}) == 1
    # Each checkout is a purchase attempt of its own.
    assert len({reply.json()["url"] for reply in replies}) == 4


def test_a_bank_transfer_checkout_answers_the_hosted_invoice_to_pay(
    api: Api, stripe: StripeControl
) -> None:
    cookie = api.as_("alice01")

    reply = checkout(api, cookie, "business", payment_method="bank_transfer")

    assert reply.status == 200, reply.text
    url = reply.json()["url"]
    assert url.startswith(f"{stripe.url}/invoices/in_")
    assert url.endswith("/pay")
    stripe.flush()
    invoices = api.call("billing_invoices", cookies=[cookie]).json()["items"]
    assert [(i["status"], i["hosted_invoice_url"]) for i in invoices] == [("open", url)]
    assert invoices[0]["amount_due"] == 4900
    # Stripe calls it active at once; no money has arrived, so no plan yet, and
    # the status says so.
    unpaid = me(api, cookie)
    assert (unpaid["plan"], unpaid["subscription_status"]) == ("free", "incomplete")
    assert api.call("export_users", cookies=[cookie]).status == 402

    stripe.pay(url)
    stripe.flush()

    paid = me(api, cookie)
    assert (paid["plan"], paid["subscription_status"]) == ("business", "active")
    invoices = api.call("billing_invoices", cookies=[cookie]).json()["items"]
    assert [i["status"] for i in invoices] == ["paid"]


# -- portal, subscription --------------------------------------------------------------


def test_the_portal_needs_a_billing_account_first(
    api: Api, stripe: StripeControl
) -> None:
    cookie = api.as_("alice01")

    assert_problem(
        api.call("billing_portal", cookies=[cookie]), 409, "no_billing_account"
    )
    assert_problem(api.call("billing_portal"), 401, "not_authenticated")
    assert stripe.api_requests() == []

    assert checkout(api, cookie).status == 200
    reply = api.call("billing_portal", cookies=[cookie])

    assert reply.status == 200, reply.text
    assert reply.json()["url"].startswith(f"{stripe.url}/portal/bps_")


def test_the_subscription_is_what_the_webhooks_stored_without_calling_stripe(
    api: Api, stripe: StripeControl
) -> None:
    cookie = api.as_("alice01")
    free = api.call("billing_subscription", cookies=[cookie])
    assert free.status == 200, free.text
    assert free.json()["plan"] == "free"
    assert free.json()["id"] is None
    assert free.json()["status"] is None

    subscriber_cookie = subscriber(api, stripe, "payer01")
    before = len(stripe.api_requests())
    reply = api.call("billing_subscription", cookies=[subscriber_cookie])

    assert reply.status == 200, reply.text
    body = reply.json()
    assert body["id"].startswith("sub_")
    assert (body["plan"], body["subscribed_plan"]) == ("pro", "pro")
    assert (body["status"], body["interval"], body["currency"]) == (
        "active",
        "month",
        "usd",
    )
    assert body["cancel_at_period_end"] is False
    assert body["entitlements"]["features"] == ["users_export"]
    assert stripe.subscription(body["id"])["status"] == "active"
    assert len(stripe.api_requests()) == before
    assert_problem(api.call("billing_subscription"), 401, "not_authenticated")


# -- change, cancel, resume ------------------------------------------------------------


def test_a_change_made_with_the_previews_proration_token_charges_what_it_showed(
    api: Api, stripe: StripeControl
) -> None:
    cookie = subscriber(api, stripe)
    body = {"plan": "business", "interval": "month"}

    preview = api.call(
        "billing_change", json_body=body, cookies=[cookie], query={"preview": "true"}
    )

    assert preview.status == 200, preview.text
    shown = preview.json()
    assert shown["currency"] == "usd"
    # Pro to Business for (almost) the whole month: about 49 - 15 dollars.
    assert 3300 <= shown["amount_due"] <= 3400
    assert me(api, cookie)["plan"] == "pro"  # a preview changes nothing

    reply = api.call(
        "billing_change",
        json_body={**body, "proration_token": shown["proration_token"]},
        cookies=[cookie],
    )

    assert reply.status == 200, reply.text
    changed = reply.json()
    assert (changed["plan"], changed["subscribed_plan"]) == ("business", "business")
    stripe.flush()
    invoices = api.call("billing_invoices", cookies=[cookie]).json()["items"]
    newest = invoices[0]
    assert newest["amount_due"] == shown["amount_due"]
    assert newest["amount_paid"] == shown["amount_due"]
    assert newest["status"] == "paid"
    assert me(api, cookie)["plan"] == "business"
    # The same change again: already on that price.
    again = api.call("billing_change", json_body=body, cookies=[cookie])
    assert_problem(again, 409, "already_subscribed")


def test_an_unpaid_change_is_not_applied_then_or_eight_days_later(
    api: Api, stripe: StripeControl
) -> None:
    cookie = subscriber(api, stripe)
    user = stored(api, "payer01")
    assert user.billing.customer_id
    assert user.billing.subscription
    sub_id = user.billing.subscription.id
    stripe.fail_next_payment(user.billing.customer_id)

    reply = api.call("billing_change", json_body={"plan": "business"}, cookies=[cookie])

    assert_problem(reply, 402, "payment_failed")
    invoice_url = reply.json()["payment_url"]
    assert invoice_url.startswith(stripe.url)
    at_stripe = stripe.subscription(sub_id)
    assert at_stripe["items"]["data"][0]["price"]["id"] == "price_pro_month_usd"
    assert at_stripe["pending_update"] is not None
    stripe.flush()
    assert me(api, cookie)["plan"] == "pro"
    assert stored(api, "payer01").billing.subscription.price_id == (  # type: ignore[union-attr]
        "price_pro_month_usd"
    )

    stripe.advance(days=8)
    stripe.flush()

    at_stripe = stripe.subscription(sub_id)
    assert at_stripe["pending_update"] is None
    assert at_stripe["items"]["data"][0]["price"]["id"] == "price_pro_month_usd"
    after = stored(api, "payer01").billing.subscription
    assert after is not None
    assert (after.plan_key, after.status.value) == ("pro", "active")


def test_paying_the_invoice_of_a_held_change_applies_it(
    api: Api, stripe: StripeControl
) -> None:
    cookie = subscriber(api, stripe)
    user = stored(api, "payer01")
    assert user.billing.customer_id
    assert user.billing.subscription
    stripe.fail_next_payment(user.billing.customer_id)
    reply = api.call("billing_change", json_body={"plan": "business"}, cookies=[cookie])
    assert_problem(reply, 402, "payment_failed")

    stripe.pay(reply.json()["payment_url"])
    stripe.flush()

    at_stripe = stripe.subscription(user.billing.subscription.id)
    assert at_stripe["pending_update"] is None
    assert at_stripe["items"]["data"][0]["price"]["id"] == ("price_business_month_usd")
    assert me(api, cookie)["plan"] == "business"


def test_a_customer_deleted_at_stripe_is_cleared_and_the_user_can_buy_again(
    api: Api, stripe: StripeControl
) -> None:
    cookie = subscriber(api, stripe)
    old = stored(api, "payer01").billing.customer_id
    assert old

    stripe.delete_customer(old)
    stripe.flush()

    after = stored(api, "payer01")
    assert after.billing.customer_id is None
    assert after.billing.subscription is not None
    assert after.billing.subscription.status.value == "canceled"
    assert me(api, cookie)["plan"] == "free"
    assert buy(api, stripe, cookie, "pro")["plan"] == "pro"
    assert stored(api, "payer01").billing.customer_id not in (None, old)


def test_a_stored_customer_gone_at_checkout_is_replaced_not_a_409_for_ever(
    api: Api, stripe: StripeControl
) -> None:
    cookie = api.as_("payer01")
    reply = checkout(api, cookie)
    assert reply.status == 200, reply.text
    old = stored(api, "payer01").billing.customer_id
    assert old
    with stripe.holding():  # the customer.deleted webhook is lost
        stripe.delete_customer(old)
        stripe.flush()

    again = checkout(api, cookie)

    assert again.status == 200, again.text
    new = stored(api, "payer01").billing.customer_id
    assert new not in (None, old)
    assert [c["id"] for c in stripe.customers("payer01@example.com")] == [new]


def test_a_refund_keeps_the_plan_and_a_lost_dispute_ends_it(
    api: Api, stripe: StripeControl
) -> None:
    cookie = subscriber(api, stripe)
    customer_id = stored(api, "payer01").billing.customer_id
    assert customer_id

    refunded = stripe.control("refund", customer=customer_id, amount=500)
    stripe.flush()

    assert refunded["amount_refunded"] == 500
    assert me(api, cookie)["plan"] == "pro"

    stripe.control("dispute", customer=customer_id, outcome="lost")
    stripe.flush()

    after = me(api, cookie)
    assert (after["plan"], after["subscription_status"]) == ("free", "canceled")
    subscription = stored(api, "payer01").billing.subscription
    assert subscription is not None
    assert stripe.subscription(subscription.id)["status"] == "canceled"
    assert all(d.status == 200 for d in stripe.relay.deliveries), [
        (d.event_type, d.status) for d in stripe.relay.deliveries
    ]


def test_a_forged_or_foreign_proration_token_is_a_422_and_nothing_changes(
    api: Api, stripe: StripeControl
) -> None:
    cookie = subscriber(api, stripe)
    other = subscriber(api, stripe, "payer02")
    body = {"plan": "business", "interval": "month"}
    theirs = api.call(
        "billing_change", json_body=body, cookies=[other], query={"preview": "true"}
    ).json()["proration_token"]
    mine = api.call(
        "billing_change", json_body=body, cookies=[cookie], query={"preview": "true"}
    ).json()["proration_token"]
    payload, mac = mine.split(".")
    before = len(stripe.api_requests())

    for token in (theirs, f"{payload}x.{mac}", "0.0", mine + "A"):
        reply = api.call(
            "billing_change",
            json_body={**body, "proration_token": token},
            cookies=[cookie],
        )
        assert_problem(reply, 422, "invalid_proration_token")
    # Bound to the target price too.
    reply = api.call(
        "billing_change",
        json_body={"plan": "pro", "interval": "year", "proration_token": mine},
        cookies=[cookie],
    )
    assert_problem(reply, 422, "invalid_proration_token")

    assert len(stripe.api_requests()) == before
    assert me(api, cookie)["plan"] == "pro"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"plan": "pro"}, 409, "already_subscribed"),
        ({"plan": "free"}, 422, "unknown_plan"),
        ({"plan": "nothing"}, 422, "unknown_plan"),
        ({"plan": "pro", "interval": "day"}, 422, "invalid_input"),
        (
            # The client never chooses the date: the raw field is gone.
            {"plan": "pro", "interval": "year", "proration_date": 0},
            422,
            "invalid_input",
        ),
    ],
)
def test_a_change_to_what_cannot_be_had_is_refused(
    api: Api, stripe: StripeControl, body: dict[str, Any], status: int, code: str
) -> None:
    cookie = subscriber(api, stripe)
    before = len(stripe.api_requests())

    for query in ({}, {"preview": "true"}):
        reply = api.call(
            "billing_change", json_body=body, cookies=[cookie], query=query
        )
        assert_problem(reply, status, code)
    assert len(stripe.api_requests()) == before


@pytest.mark.parametrize("name", ["billing_change", "billing_cancel", "billing_resume"])
def test_without_a_subscription_there_is_nothing_to_change(
    api: Api, stripe: StripeControl, name: str
) -> None:
    cookie = api.as_("alice01")
    body = {"plan": "business"} if name == "billing_change" else None

    reply = api.call(name, json_body=body, cookies=[cookie])

    assert_problem(reply, 409, "no_subscription")
    assert_problem(api.call(name, json_body=body), 401, "not_authenticated")
    assert stripe.api_requests() == []


def test_cancel_keeps_the_plan_to_the_period_end_and_resume_takes_it_back(
    api: Api, stripe: StripeControl
) -> None:
    cookie = subscriber(api, stripe)

    canceled = api.call("billing_cancel", cookies=[cookie])

    assert canceled.status == 200, canceled.text
    body = canceled.json()
    assert body["cancel_at_period_end"] is True
    assert (body["plan"], body["status"]) == ("pro", "active")
    stripe.flush()
    assert stripe.subscription(body["id"])["cancel_at_period_end"] is True
    account = me(api, cookie)
    assert (account["plan"], account["cancel_at_period_end"]) == ("pro", True)
    # Asking twice is harmless.
    assert api.call("billing_cancel", cookies=[cookie]).json()["cancel_at_period_end"]

    resumed = api.call("billing_resume", cookies=[cookie])

    assert resumed.status == 200, resumed.text
    assert resumed.json()["cancel_at_period_end"] is False
    stripe.flush()
    assert stripe.subscription(body["id"])["cancel_at_period_end"] is False
    assert me(api, cookie)["cancel_at_period_end"] is False


def test_a_cancelled_subscription_ends_with_its_period_and_the_plan_with_it(
    api: Api, stripe: StripeControl
) -> None:
    cookie = subscriber(api, stripe)
    assert api.call("billing_cancel", cookies=[cookie]).status == 200

    stripe.advance(days=32)
    stripe.flush()

    user = stored(api, "payer01")
    assert user.billing.subscription is not None
    assert user.billing.subscription.status.value == "canceled"
    assert_problem(api.call("billing_resume", cookies=[cookie]), 409, "no_subscription")


# -- invoices --------------------------------------------------------------------------


def test_invoices_are_listed_newest_first_a_page_at_a_time(
    api: Api, stripe: StripeControl
) -> None:
    cookie = subscriber(api, stripe)
    subscription_id = stored(api, "payer01").billing.subscription.id  # type: ignore[union-attr]
    for _ in range(3):
        stripe.renew(subscription_id)
    stripe.flush()
    everything = api.call("billing_invoices", cookies=[cookie], query={"limit": "100"})
    assert everything.status == 200, everything.text
    assert everything.json()["next_cursor"] is None
    all_ids = [invoice["id"] for invoice in everything.json()["items"]]
    assert len(all_ids) == 4
    created = [invoice["created"] for invoice in everything.json()["items"]]
    assert created == sorted(created, reverse=True)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        reply = api.call("billing_invoices", cookies=[cookie], query=query)
        assert reply.status == 200, reply.text
        page = reply.json()
        seen += [invoice["id"] for invoice in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == all_ids
    assert pages == 2
    first = everything.json()["items"][-1]
    assert first["status"] == "paid"
    assert first["amount_paid"] == 1500
    assert first["currency"] == "usd"
    assert first["number"]
    assert first["invoice_pdf"].startswith(stripe.url)


def test_a_user_who_never_checked_out_has_no_invoices_and_stripe_is_not_asked(
    api: Api, stripe: StripeControl
) -> None:
    cookie = api.as_("alice01")

    reply = api.call("billing_invoices", cookies=[cookie])

    assert reply.status == 200, reply.text
    assert reply.json() == {"items": [], "next_cursor": None}
    assert stripe.api_requests() == []


def test_a_cursor_made_for_another_user_is_refused(
    api: Api, stripe: StripeControl
) -> None:
    mallory = subscriber(api, stripe, "mallory1")
    alice = subscriber(api, stripe, "alice001")
    subscription_id = stored(api, "alice001").billing.subscription.id  # type: ignore[union-attr]
    stripe.renew(subscription_id)
    stripe.flush()
    alices_page = api.call("billing_invoices", cookies=[alice], query={"limit": "1"})
    cursor = alices_page.json()["next_cursor"]
    assert cursor

    reply = api.call(
        "billing_invoices", cookies=[mallory], query={"limit": "1", "cursor": cursor}
    )

    assert_problem(reply, 422, "invalid_cursor")
    for bad in ("garbage", cursor[:-2] + "AA", "a" * 512):
        reply = api.call("billing_invoices", cookies=[alice], query={"cursor": bad})
        assert_problem(reply, 422, "invalid_cursor")


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_an_invoice_page_size_out_of_range_is_a_422(api: Api, limit: str) -> None:
    cookie = api.as_("alice01")

    reply = api.call("billing_invoices", cookies=[cookie], query={"limit": limit})

    assert_problem(reply, 422, "invalid_input")


# -- Stripe down -----------------------------------------------------------------------


def unreachable_stripe(api: Api) -> None:
    """Point the container's Stripe client at a port nobody listens on."""
    from local.harness import free_port

    settings = api.container.settings.model_copy(
        update={
            "stripe_api_base": f"http://127.0.0.1:{free_port()}",
            "stripe_max_retries": 1,
        }
    )
    api.container.payments = _payments(settings, api.container.clock)


REQUESTS: dict[str, Callable[[str], dict[str, Any]]] = {
    "billing_checkout": lambda c: {"json_body": {"plan": "pro"}, "cookies": [c]},
    "billing_portal": lambda c: {"cookies": [c]},
    "billing_change": lambda c: {"json_body": {"plan": "business"}, "cookies": [c]},
    "billing_cancel": lambda c: {"cookies": [c]},
    "billing_resume": lambda c: {"cookies": [c]},
    "billing_invoices": lambda c: {"cookies": [c]},
}


def test_when_stripe_is_unreachable_every_call_to_it_is_a_503(
    api: Api, stripe: StripeControl, caplog: pytest.LogCaptureFixture
) -> None:
    cookie = subscriber(api, stripe)
    before = stored(api, "payer01")
    unreachable_stripe(api)

    for name, request in REQUESTS.items():
        if name == "billing_checkout":
            continue  # the subscriber cannot check out; see below
        reply = api.call(name, **request(cookie))
        assert_problem(reply, 503, "payment_provider_unavailable")
    preview = api.call(
        "billing_change",
        json_body={"plan": "business"},
        cookies=[cookie],
        query={"preview": "true"},
    )
    assert_problem(preview, 503, "payment_provider_unavailable")
    newcomer = api.as_("newbie01")
    assert_problem(checkout(api, newcomer), 503, "payment_provider_unavailable")

    after = stored(api, "payer01")
    assert after.billing == before.billing
    assert stored(api, "newbie01").billing.customer_id is None
    # What does not need Stripe still works.
    assert api.call("billing_subscription", cookies=[cookie]).status == 200
    assert api.call("billing_plans").status == 200
    assert me(api, cookie)["plan"] == "pro"
    assert "dependency unavailable" in caplog.text


def test_paying_two_open_checkouts_leaves_one_live_subscription_at_stripe(
    api: Api, stripe: StripeControl
) -> None:
    cookie = api.as_("alice01")
    # Two browser tabs: both checkouts are made before either is paid.
    first = checkout(api, cookie, "pro").json()["url"]
    second = checkout(api, cookie, "business").json()["url"]

    stripe.pay(first)
    stripe.flush()
    stripe.pay(second)
    stripe.flush()

    live = [
        s
        for s in stripe.api("/v1/subscriptions", status="all")["data"]
        if s["status"] in ("active", "trialing", "past_due")
    ]
    tracked = stored(api, "alice01").billing.subscription
    assert tracked is not None
    assert [s["id"] for s in live] == [tracked.id]
