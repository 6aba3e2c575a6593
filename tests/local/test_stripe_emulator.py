"""The local Stripe emulator, over real HTTP: Stripe's wire format, idempotency,
Checkout, prorations, renewals through its clock, and signed webhooks delivered
in order to a small receiving server."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.cli import main
from stripe_emulator import API_VERSION, Emulator, encode_form, parse_form, start

SECRET = "whsec_test_emulator_secret"
KEY = "sk_test_emulator_tests"
DAY = 86_400
PRICES = [
    {
        "id": "price_basic_month",
        "interval": "month",
        "currency": "usd",
        "unit_amount": 3000,
    },
    {
        "id": "price_plus_month",
        "interval": "month",
        "currency": "usd",
        "unit_amount": 6000,
    },
    {
        "id": "price_plus_year",
        "interval": "year",
        "currency": "usd",
        "unit_amount": 60000,
    },
    {
        "id": "price_basic_eur",
        "interval": "month",
        "currency": "eur",
        "unit_amount": 2800,
    },
]


# --- a webhook endpoint and an emulator -------------------------------------------


class Receiver:
    """A webhook endpoint that records what it gets and answers ``statuses``
    in turn (then 200); ``on_event`` runs before it answers."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: deque[int] = deque()
        self.on_event: Callable[[dict[str, Any]], None] | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append((headers, body))
                if receiver.on_event is not None:
                    receiver.on_event(json.loads(body))
                status = receiver.statuses.popleft() if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        ).start()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]

    def types(self) -> list[str]:
        return [event["type"] for event in self.events()]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def emulator(receiver: Receiver, tmp_path: Path) -> Iterator[Emulator]:
    emulator = start(
        0,
        receiver.url,
        SECRET,
        PRICES,
        clock_offset_file=str(tmp_path / "offset.json"),
        retry_delays=(0.05, 0.05),
    )
    yield emulator
    emulator.stop()


class Api:
    """Stripe's API as a client library calls it: form bodies, a bearer key."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.http = httpx.Client(
            base_url=emulator.url,
            headers={"Authorization": f"Bearer {KEY}", "Stripe-Version": API_VERSION},
            timeout=10,
        )

    def post(
        self, path: str, params: dict[str, Any], key: str | None = None
    ) -> httpx.Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.http.post(path, content=encode_form(params), headers=headers)

    def ok(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post(path, params or {})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.http.get(path, params=params)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def control(self, name: str, **body: Any) -> dict[str, Any]:
        response = httpx.post(f"{self.emulator.url}/_emulator/{name}", json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def customer(self) -> dict[str, Any]:
        return self.ok(
            "/v1/customers", {"email": "ada@example.com", "metadata": {"user_id": "u1"}}
        )

    def subscribe(
        self, price: str = "price_basic_month", **session: Any
    ) -> dict[str, Any]:
        """A customer, a Checkout session, and the page opened: the subscription."""
        customer = self.customer()
        checkout = self.ok(
            "/v1/checkout/sessions",
            {
                "mode": "subscription",
                "customer": customer["id"],
                "line_items": [{"price": price, "quantity": 1}],
                "client_reference_id": "u1",
                "metadata": {"user_id": "u1"},
                "subscription_data": {"metadata": {"user_id": "u1"}},
                **session,
            },
        )
        assert httpx.get(checkout["url"]).status_code == 200
        done = self.get(f"/v1/checkout/sessions/{checkout['id']}")
        return self.get(f"/v1/subscriptions/{done['subscription']}")

    def flush(self) -> None:
        # Returns as soon as every delivery is done; the bound is for a loaded
        # 2-core machine, where 5 s was once not enough (CI must not flake).
        assert self.emulator.flush(30)


@pytest.fixture
def api(emulator: Emulator) -> Iterator[Api]:
    api = Api(emulator)
    yield api
    api.http.close()


def verify(headers: dict[str, str], body: bytes, now: float | None = None) -> None:
    """Stripe's signature check, done by hand (``now``: the verifier's clock)."""
    fields = dict(part.split("=", 1) for part in headers["stripe-signature"].split(","))
    expected = hmac.new(
        SECRET.encode(), f"{fields['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(fields["v1"], expected)
    assert abs(int(fields["t"]) - (time.time() if now is None else now)) < 300
    assert headers["content-type"].startswith("application/json")


def item(sub: dict[str, Any]) -> dict[str, Any]:
    return dict(sub["items"]["data"][0])


# --- the wire format ----------------------------------------------------------------


def test_nested_form_keys_decode_into_hashes_and_lists() -> None:
    params = {
        "metadata": {"user_id": "u1"},
        "line_items": [{"price": "price_x", "quantity": 2}],
        "subscription_details": {"items": [{"id": "si_1", "price": "price_y"}]},
        "cancel_at_period_end": True,
    }

    decoded = parse_form(
        encode_form(params) + "&expand[]=latest_invoice&expand[]=customer"
    )

    assert decoded == {
        "metadata": {"user_id": "u1"},
        "line_items": [{"price": "price_x", "quantity": "2"}],
        "subscription_details": {"items": [{"id": "si_1", "price": "price_y"}]},
        "cancel_at_period_end": "true",
        "expand": ["latest_invoice", "customer"],
    }


def test_a_request_without_a_test_key_is_refused_with_stripes_error_body(
    emulator: Emulator,
) -> None:
    missing = httpx.get(f"{emulator.url}/v1/prices/price_basic_month")
    live = httpx.get(
        f"{emulator.url}/v1/prices/price_basic_month",
        headers={"Authorization": "Bearer sk_live_abcdefghijkl"},
    )

    assert missing.status_code == live.status_code == 401
    assert missing.json()["error"]["type"] == "invalid_request_error"
    assert "did not provide an API key" in missing.json()["error"]["message"]
    assert "Invalid API Key" in live.json()["error"]["message"]


def test_prices_come_from_the_configured_list_and_unknown_ids_are_404(api: Api) -> None:
    price = api.get("/v1/prices/price_plus_year")
    unknown = api.http.get("/v1/customers/cus_nope")

    assert price["object"] == "price"
    assert (price["unit_amount"], price["currency"], price["active"]) == (
        60000,
        "usd",
        True,
    )
    assert price["recurring"]["interval"] == "year"
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "resource_missing"
    assert unknown.json()["error"]["message"] == "No such customer: 'cus_nope'"


def test_a_key_whose_first_request_is_in_flight_is_refused_409_then_replayed_after(
    api: Api,
) -> None:
    params = {"email": "ada@example.com", "metadata": {"user_id": "u1"}}
    with ThreadPoolExecutor(1) as pool, api.emulator.busy():
        first = pool.submit(api.post, "/v1/customers", params, "k-1")
        _wait_for(lambda: api.emulator.in_flight("k-1"))
        concurrent = api.post("/v1/customers", params, "k-1")
    answered = first.result(timeout=5)

    later = api.post("/v1/customers", params, "k-1")

    assert concurrent.status_code == 409
    assert concurrent.json()["error"]["type"] == "idempotency_error"
    assert concurrent.json()["error"]["code"] == "idempotency_key_in_use"
    assert answered.status_code == later.status_code == 200
    assert later.json()["id"] == answered.json()["id"]
    assert later.headers["Idempotent-Replayed"] == "true"
    assert len(api.get("/v1/customers", limit=100)["data"]) == 1


def test_stripe_python_retries_a_409_in_use_key_and_gets_the_first_answer(
    api: Api,
) -> None:
    stripe = pytest.importorskip("stripe")
    client = stripe.StripeClient(
        KEY, base_addresses={"api": api.emulator.url}, max_network_retries=2
    )
    params = {"email": "ada@example.com"}

    def refused() -> bool:
        return any(r["refused"] for r in list(api.emulator.requests))

    with ThreadPoolExecutor(2) as pool:
        with api.emulator.busy():
            first = pool.submit(api.post, "/v1/customers", params, "k-sdk")
            _wait_for(lambda: api.emulator.in_flight("k-sdk"))
            retried = pool.submit(
                client.v1.customers.create,
                params=params,
                options={"idempotency_key": "k-sdk"},
            )
            _wait_for(refused)
        customer = retried.result(timeout=10)

    assert customer.id == first.result(timeout=5).json()["id"]


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_same_idempotency_key_with_other_params_is_an_idempotency_error(
    api: Api,
) -> None:
    api.post("/v1/customers", {"email": "ada@example.com"}, "k-2")

    response = api.post("/v1/customers", {"email": "bob@example.com"}, "k-2")

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "idempotency_error"


# --- Checkout and its webhooks ------------------------------------------------------


def test_paying_on_the_checkout_page_makes_an_incomplete_subscription_active_in_order(
    api: Api, receiver: Receiver
) -> None:
    customer = api.customer()
    session = api.ok(
        "/v1/checkout/sessions",
        {
            "mode": "subscription",
            "customer": customer["id"],
            "line_items": [{"price": "price_basic_month", "quantity": 1}],
            "client_reference_id": "u1",
            "subscription_data": {"metadata": {"user_id": "u1"}},
            "success_url": "http://app.test/done?session={CHECKOUT_SESSION_ID}",
        },
    )
    assert session["url"] == f"{api.emulator.url}/checkout/{session['id']}"
    assert (session["status"], session["subscription"]) == ("open", None)

    page = httpx.get(session["url"])
    api.flush()

    assert page.status_code == 303
    assert page.headers["location"] == f"http://app.test/done?session={session['id']}"
    assert receiver.types() == [
        "customer.subscription.created",
        "invoice.paid",
        "customer.subscription.updated",
        "checkout.session.completed",
    ]
    for headers, body in receiver.received:
        verify(headers, body)
    created, paid, activated, completed = receiver.events()
    sub = created["data"]["object"]
    assert (sub["status"], sub["metadata"], sub["customer"]) == (
        "incomplete",
        {"user_id": "u1"},
        customer["id"],
    )
    assert activated["data"]["object"]["status"] == "active"
    assert activated["data"]["previous_attributes"] == {"status": "incomplete"}
    assert "current_period_end" not in sub
    assert item(sub)["current_period_end"] > item(sub)["current_period_start"]
    invoice = paid["data"]["object"]
    assert invoice["parent"]["subscription_details"]["subscription"] == sub["id"]
    assert (invoice["amount_paid"], invoice["billing_reason"]) == (
        3000,
        "subscription_create",
    )
    done = completed["data"]["object"]
    assert (done["status"], done["payment_status"], done["subscription"]) == (
        "complete",
        "paid",
        sub["id"],
    )
    assert done["client_reference_id"] == "u1"
    assert {e["api_version"] for e in receiver.events()} == {API_VERSION}


def test_opening_the_checkout_page_twice_changes_nothing_the_second_time(
    api: Api, receiver: Receiver
) -> None:
    sub = api.subscribe()
    session = api.emulator.state.sessions[next(iter(api.emulator.state.sessions))]

    again = httpx.get(session["url"])
    api.flush()

    assert again.status_code == 200
    assert len(receiver.received) == 4
    assert [s["id"] for s in api.get("/v1/subscriptions")["data"]] == [sub["id"]]


def test_a_checkout_with_trial_days_makes_a_trialing_subscription_with_a_zero_invoice(
    api: Api,
) -> None:
    sub = api.subscribe(subscription_data={"trial_period_days": 14})
    invoice = api.get(f"/v1/invoices/{sub['latest_invoice']}")

    assert sub["status"] == "trialing"
    assert sub["trial_end"] == item(sub)["current_period_end"]
    assert sub["trial_end"] - sub["trial_start"] == 14 * DAY
    assert (invoice["amount_due"], invoice["status"]) == (0, "paid")


def test_webhooks_wait_until_the_request_that_caused_them_is_answered(
    api: Api, receiver: Receiver
) -> None:
    customer = api.customer()
    session = api.ok(
        "/v1/checkout/sessions",
        {
            "mode": "subscription",
            "customer": customer["id"],
            "line_items": [{"price": "price_basic_month"}],
        },
    )

    # The HTTP layer's own call, stopped before it writes the answer.
    response, held = api.emulator.handle("GET", f"/checkout/{session['id']}", {}, b"")
    time.sleep(0.2)
    assert response.status == 200
    assert receiver.received == []
    api.emulator.release(held)
    api.flush()

    assert len(receiver.received) == 4


def test_a_webhook_handler_may_call_the_emulator_back(
    api: Api, receiver: Receiver
) -> None:
    seen: list[str] = []

    def read_back(event: dict[str, Any]) -> None:
        if event["type"] == "customer.subscription.created":
            sub_id = event["data"]["object"]["id"]
            seen.append(api.get(f"/v1/subscriptions/{sub_id}")["status"])

    receiver.on_event = read_back
    api.subscribe()
    api.flush()

    assert seen == ["active"]  # what it is by the time the event arrives


def test_a_failing_webhook_endpoint_is_retried_then_marked_failed(
    api: Api, receiver: Receiver
) -> None:
    receiver.statuses.extend([500, 500, 500])  # every attempt of the first event
    api.subscribe()
    api.flush()

    events = httpx.get(f"{api.emulator.url}/_emulator/events").json()
    first, *rest = events["data"]
    assert first["status"] == "failed"
    assert [a["status"] for a in first["deliveries"][0]["attempts"]] == [500, 500, 500]
    assert [e["status"] for e in rest] == ["delivered"] * 3


def test_replay_delivers_the_same_event_again_with_a_fresh_signature(
    api: Api, receiver: Receiver
) -> None:
    api.subscribe()
    api.flush()
    first_body = receiver.received[0][1]
    event_id = json.loads(first_body)["id"]

    api.control("replay", event=event_id)
    api.flush()

    headers, body = receiver.received[-1]
    assert body == first_body
    verify(headers, body)
    assert len(receiver.received) == 5
    assert json.loads(body)["id"] == event_id


# --- changing a subscription --------------------------------------------------------


def _change(
    sub: dict[str, Any], price: str, behavior: str, when: int
) -> dict[str, Any]:
    return {
        "items": [{"id": item(sub)["id"], "price": price}],
        "proration_behavior": behavior,
        "proration_date": when,
    }


def test_an_unpaid_pending_if_incomplete_change_waits_in_pending_update_until_paid(
    api: Api,
) -> None:
    sub = api.subscribe()
    api.control("fail-next-payment", subscription=sub["id"])
    when = item(sub)["current_period_start"] + DAY

    held = api.ok(
        f"/v1/subscriptions/{sub['id']}",
        {
            **_change(sub, "price_plus_month", "always_invoice", when),
            "payment_behavior": "pending_if_incomplete",
            "expand": ["latest_invoice"],
        },
    )
    httpx.get(held["latest_invoice"]["hosted_invoice_url"])
    paid = api.get(f"/v1/subscriptions/{sub['id']}")

    assert item(held)["price"]["id"] == "price_basic_month"
    assert held["status"] == "active"
    assert held["latest_invoice"]["status"] == "open"
    pending = held["pending_update"]["subscription_items"][0]
    assert pending["price"]["id"] == "price_plus_month"
    assert item(paid)["price"]["id"] == "price_plus_month"
    assert paid["pending_update"] is None


def test_an_unpaid_pending_update_is_discarded_after_23_hours_and_its_invoice_voided(
    api: Api, receiver: Receiver
) -> None:
    sub = api.subscribe()
    api.control("fail-next-payment", subscription=sub["id"])
    held = api.ok(
        f"/v1/subscriptions/{sub['id']}",
        {
            **_change(
                sub,
                "price_plus_month",
                "always_invoice",
                item(sub)["current_period_start"] + DAY,
            ),
            "payment_behavior": "pending_if_incomplete",
        },
    )

    api.control("advance", hours=23)
    api.flush()

    after = api.get(f"/v1/subscriptions/{sub['id']}")
    assert (after["pending_update"], item(after)["price"]["id"]) == (
        None,
        "price_basic_month",
    )
    assert api.get(f"/v1/invoices/{held['latest_invoice']}")["status"] == "void"
    assert receiver.types()[-2:] == ["invoice.voided", "customer.subscription.updated"]


def test_a_voided_invoice_gives_back_the_credit_it_drew_from_the_balance(
    api: Api,
) -> None:
    sub = api.subscribe("price_plus_month")
    start_ = item(sub)["current_period_start"]
    api.ok(
        f"/v1/subscriptions/{sub['id']}",
        _change(sub, "price_basic_month", "always_invoice", start_ + DAY),
    )
    credit = api.get(f"/v1/customers/{sub['customer']}")["balance"]
    api.control("fail-next-payment", subscription=sub["id"])
    held = api.ok(
        f"/v1/subscriptions/{sub['id']}",
        {
            **_change(sub, "price_plus_year", "always_invoice", start_ + 2 * DAY),
            "payment_behavior": "pending_if_incomplete",
        },
    )
    drawn = api.get(f"/v1/customers/{sub['customer']}")["balance"]

    api.control("advance", hours=23)

    assert api.get(f"/v1/invoices/{held['latest_invoice']}")["status"] == "void"
    assert (credit < 0, drawn) == (True, 0)
    assert api.get(f"/v1/customers/{sub['customer']}")["balance"] == credit


def test_deleting_a_customer_ends_its_subscriptions_then_sends_customer_deleted(
    api: Api, receiver: Receiver
) -> None:
    sub = api.subscribe()

    deleted = api.http.delete(f"/v1/customers/{sub['customer']}").json()
    api.flush()

    assert deleted == {"id": sub["customer"], "object": "customer", "deleted": True}
    assert api.get(f"/v1/subscriptions/{sub['id']}")["status"] == "canceled"
    assert api.http.get(f"/v1/customers/{sub['customer']}").status_code == 404
    assert receiver.types()[-2:] == [
        "customer.subscription.deleted",
        "customer.deleted",
    ]


def test_the_preview_of_a_price_change_equals_the_invoice_of_the_same_change(
    api: Api, receiver: Receiver
) -> None:
    sub = api.subscribe()
    start_, end = item(sub)["current_period_start"], item(sub)["current_period_end"]
    when = start_ + 10 * DAY
    remaining, period = end - when, end - start_
    expected = round(6000 * remaining / period) - round(3000 * remaining / period)

    preview = api.ok(
        "/v1/invoices/create_preview",
        {
            "customer": sub["customer"],
            "subscription": sub["id"],
            "subscription_details": _change(
                sub, "price_plus_month", "always_invoice", when
            ),
        },
    )
    changed = api.ok(
        f"/v1/subscriptions/{sub['id']}",
        {
            **_change(sub, "price_plus_month", "always_invoice", when),
            "expand": ["latest_invoice"],
        },
    )
    api.flush()

    invoice = changed["latest_invoice"]
    assert preview["object"] == "invoice"
    assert (
        preview["amount_due"] == preview["total"] == invoice["amount_due"] == expected
    )
    assert [line["amount"] for line in preview["lines"]["data"]] == [
        line["amount"] for line in invoice["lines"]["data"]
    ]
    assert (invoice["status"], invoice["billing_reason"]) == (
        "paid",
        "subscription_update",
    )
    assert item(changed)["price"]["id"] == "price_plus_month"
    assert receiver.types()[-2:] == ["customer.subscription.updated", "invoice.paid"]
    previous = receiver.events()[-2]["data"]["previous_attributes"]
    assert previous["items"]["data"][0]["price"]["id"] == "price_basic_month"


def test_a_downgrade_is_a_credit_and_invoices_nothing_due(api: Api) -> None:
    sub = api.subscribe("price_plus_month")
    when = item(sub)["current_period_start"] + DAY

    changed = api.ok(
        f"/v1/subscriptions/{sub['id']}",
        {
            **_change(sub, "price_basic_month", "always_invoice", when),
            "expand": ["latest_invoice"],
        },
    )

    assert changed["latest_invoice"]["total"] < 0
    assert changed["latest_invoice"]["amount_due"] == 0


def test_a_downgrades_credit_goes_to_the_customer_balance_and_pays_the_renewal(
    api: Api,
) -> None:
    sub = api.subscribe("price_plus_month")
    when = item(sub)["current_period_start"] + DAY
    changed = api.ok(
        f"/v1/subscriptions/{sub['id']}",
        {
            **_change(sub, "price_basic_month", "always_invoice", when),
            "expand": ["latest_invoice"],
        },
    )
    credit = changed["latest_invoice"]["total"]

    api.control("renew", subscription=sub["id"])

    renewal = api.get("/v1/invoices", customer=sub["customer"], limit=1)["data"][0]
    balance = api.get(f"/v1/customers/{sub['customer']}")["balance"]
    assert changed["latest_invoice"]["ending_balance"] == credit
    assert (renewal["starting_balance"], renewal["total"]) == (credit, 3000)
    assert renewal["amount_due"] == max(0, 3000 + credit)
    assert balance == min(0, 3000 + credit)


def test_cancel_with_invoice_now_and_prorate_invoices_a_credit_for_the_unused_time(
    api: Api, receiver: Receiver
) -> None:
    sub = api.subscribe()
    api.control("advance", days=10)

    canceled = api.http.delete(
        f"/v1/subscriptions/{sub['id']}",
        params={"invoice_now": "true", "prorate": "true"},
    ).json()
    api.flush()

    final = api.get(f"/v1/invoices/{canceled['latest_invoice']}")
    customer = api.get(f"/v1/customers/{sub['customer']}")
    (line,) = final["lines"]["data"]
    assert canceled["status"] == "canceled"
    assert line["parent"]["subscription_item_details"]["proration"] is True
    assert -3000 < line["amount"] < -2000
    assert (final["status"], final["amount_due"]) == ("paid", 0)
    assert customer["balance"] == line["amount"]
    assert receiver.types()[-2:] == ["customer.subscription.deleted", "invoice.paid"]


def test_cancel_without_invoice_now_makes_no_invoice(api: Api) -> None:
    sub = api.subscribe()

    canceled = api.http.delete(
        f"/v1/subscriptions/{sub['id']}", params={"prorate": "true"}
    ).json()

    assert canceled["latest_invoice"] == sub["latest_invoice"]
    assert api.get(f"/v1/customers/{sub['customer']}")["balance"] == 0


def test_a_credit_on_the_customer_balance_pays_the_next_subscriptions_first_invoice(
    api: Api,
) -> None:
    sub = api.subscribe()
    api.control("advance", days=10)
    api.http.delete(
        f"/v1/subscriptions/{sub['id']}",
        params={"invoice_now": "true", "prorate": "true"},
    )
    credit = api.get(f"/v1/customers/{sub['customer']}")["balance"]

    again = api.ok(
        "/v1/subscriptions",
        {
            "customer": sub["customer"],
            "items": [{"price": "price_basic_month"}],
            "expand": ["latest_invoice"],
        },
    )

    first = again["latest_invoice"]
    assert (first["starting_balance"], first["ending_balance"]) == (credit, 0)
    assert first["amount_due"] == 3000 + credit
    assert api.get(f"/v1/customers/{sub['customer']}")["balance"] == 0


def test_create_prorations_invoices_nothing_now_but_adds_the_proration_to_the_renewal(
    api: Api,
) -> None:
    sub = api.subscribe()
    when = item(sub)["current_period_start"] + 10 * DAY
    changed = api.ok(
        f"/v1/subscriptions/{sub['id']}",
        _change(sub, "price_plus_month", "create_prorations", when),
    )
    assert changed["latest_invoice"] == sub["latest_invoice"]

    api.control("renew", subscription=sub["id"])

    renewal = api.get("/v1/invoices", customer=sub["customer"], limit=1)["data"][0]
    prorations = [
        line["amount"]
        for line in renewal["lines"]["data"]
        if line["parent"]["subscription_item_details"]["proration"]
    ]
    assert len(prorations) == 2
    assert renewal["amount_due"] == 6000 + sum(prorations)


def test_changing_to_a_yearly_price_restarts_the_billing_cycle(api: Api) -> None:
    sub = api.subscribe()
    when = item(sub)["current_period_start"] + 10 * DAY

    changed = api.ok(
        f"/v1/subscriptions/{sub['id']}",
        {
            **_change(sub, "price_plus_year", "always_invoice", when),
            "expand": ["latest_invoice"],
        },
    )

    assert item(changed)["current_period_start"] == when
    assert item(changed)["current_period_end"] - when in (365 * DAY, 366 * DAY)
    assert 60000 - 3000 < changed["latest_invoice"]["amount_due"] < 60000


def test_changing_the_price_of_a_canceled_subscription_is_refused(api: Api) -> None:
    sub = api.subscribe()
    api.http.delete(f"/v1/subscriptions/{sub['id']}")

    response = api.post(
        f"/v1/subscriptions/{sub['id']}",
        {"items": [{"id": item(sub)["id"], "price": "price_plus_month"}]},
    )

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_a_price_in_another_currency_is_refused(api: Api) -> None:
    sub = api.subscribe()

    response = api.post(
        f"/v1/subscriptions/{sub['id']}",
        {"items": [{"id": item(sub)["id"], "price": "price_basic_eur"}]},
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "items[0][price]"


# --- the clock: renewals, failures, cancellations -----------------------------------


def test_advancing_past_the_period_end_renews_and_pays_the_subscription(
    api: Api, receiver: Receiver, tmp_path: Path
) -> None:
    sub = api.subscribe()
    end = item(sub)["current_period_end"]
    api.flush()

    answer = api.control("advance", seconds=end - api.emulator.clock.now() + 60)
    api.flush()

    renewed = api.get(f"/v1/subscriptions/{sub['id']}")
    invoice = api.get(f"/v1/invoices/{renewed['latest_invoice']}")
    assert renewed["status"] == "active"
    assert item(renewed)["current_period_start"] == end
    assert (invoice["billing_reason"], invoice["status"], invoice["amount_paid"]) == (
        "subscription_cycle",
        "paid",
        3000,
    )
    assert receiver.types()[4:] == ["customer.subscription.updated", "invoice.paid"]
    assert json.loads((tmp_path / "offset.json").read_text()) == answer["offset"] > 0
    # Signed at the emulator's time, which the local API reads from the same file.
    headers, body = receiver.received[-1]
    verify(headers, body, now=time.time() + answer["offset"])


def test_an_armed_failure_makes_the_renewal_fail_until_the_invoice_is_paid(
    api: Api, receiver: Receiver
) -> None:
    sub = api.subscribe()
    api.control("fail-next-payment", subscription=sub["id"])

    api.control("advance", days=32)
    failed = api.get(f"/v1/subscriptions/{sub['id']}")
    invoice = api.get(f"/v1/invoices/{failed['latest_invoice']}")
    assert failed["status"] == "past_due"
    assert (invoice["status"], invoice["amount_remaining"]) == ("open", 3000)

    assert httpx.get(invoice["hosted_invoice_url"]).status_code == 200
    api.flush()

    assert api.get(f"/v1/subscriptions/{sub['id']}")["status"] == "active"
    assert receiver.types()[4:] == [
        "customer.subscription.updated",
        "invoice.payment_failed",
        "invoice.paid",
        "customer.subscription.updated",
    ]


def test_a_failed_renewal_is_retried_on_schedule_and_a_paid_retry_makes_it_active(
    api: Api, receiver: Receiver
) -> None:
    sub = api.subscribe()
    api.control("fail-next-payment", subscription=sub["id"])
    api.control("advance", days=32)
    failed = api.get(f"/v1/subscriptions/{sub['id']}")
    invoice = api.get(f"/v1/invoices/{failed['latest_invoice']}")

    api.control("advance", days=3)
    api.flush()

    retried = api.get(f"/v1/invoices/{invoice['id']}")
    assert invoice["next_payment_attempt"] == invoice["created"] + 3 * DAY
    assert (retried["status"], retried["attempt_count"]) == ("paid", 2)
    assert api.get(f"/v1/subscriptions/{sub['id']}")["status"] == "active"
    assert receiver.types()[-2:] == ["customer.subscription.updated", "invoice.paid"]


def test_when_every_retry_fails_the_subscription_is_canceled(
    api: Api, receiver: Receiver
) -> None:
    sub = api.subscribe()
    api.control("fail-next-payment", subscription=sub["id"], times=4)

    api.control("advance", days=32 + 3 + 5 + 7)
    api.flush()

    ended = api.get(f"/v1/subscriptions/{sub['id']}")
    invoice = api.get(f"/v1/invoices/{ended['latest_invoice']}")
    assert ended["status"] == "canceled"
    assert ended["cancellation_details"]["reason"] == "payment_failed"
    assert (invoice["attempt_count"], invoice["next_payment_attempt"]) == (4, None)
    assert receiver.types()[-2:] == [
        "customer.subscription.deleted",
        "invoice.payment_failed",
    ]


def test_the_dunning_setting_can_leave_the_subscription_unpaid_until_it_is_paid(
    api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STRATA_STRIPE_EMULATOR_URL", api.emulator.url)
    assert main(["stripe", "dunning", "--retry-days", "1", "--final", "unpaid"]) == 0
    sub = api.subscribe()
    assert main(["stripe", "fail-next-payment", sub["id"], "--times", "2"]) == 0

    api.control("advance", days=32)
    unpaid = api.get(f"/v1/subscriptions/{sub['id']}")
    invoice = api.get(f"/v1/invoices/{unpaid['latest_invoice']}")
    api.control("advance", days=40)
    still = api.get(f"/v1/subscriptions/{sub['id']}")
    httpx.get(invoice["hosted_invoice_url"])

    assert capsys.readouterr().out.splitlines() == [
        "failed renewals are retried after 1 days, then unpaid",
        f"the next 2 payments of {sub['id']} will fail",
    ]
    assert (unpaid["status"], invoice["attempt_count"]) == ("unpaid", 2)
    assert still["latest_invoice"] == invoice["id"]  # no renewal while unpaid
    assert api.get(f"/v1/subscriptions/{sub['id']}")["status"] == "active"


def test_an_action_required_failure_keeps_the_subscription_active(
    api: Api, receiver: Receiver
) -> None:
    sub = api.subscribe()
    api.control("fail-next-payment", customer=sub["customer"], action_required=True)

    api.control("renew", subscription=sub["id"])
    api.flush()

    assert api.get(f"/v1/subscriptions/{sub['id']}")["status"] == "active"
    assert receiver.types()[-1] == "invoice.payment_action_required"


def test_cancel_at_period_end_ends_the_subscription_at_the_period_end(
    api: Api, receiver: Receiver
) -> None:
    sub = api.subscribe()
    canceling = api.ok(f"/v1/subscriptions/{sub['id']}", {"cancel_at_period_end": True})
    assert canceling["cancel_at"] == item(sub)["current_period_end"]

    api.control("advance", days=40)
    api.flush()

    ended = api.get(f"/v1/subscriptions/{sub['id']}")
    assert ended["status"] == "canceled"
    assert ended["ended_at"] == item(sub)["current_period_end"]
    assert receiver.types()[-1] == "customer.subscription.deleted"
    assert api.get("/v1/subscriptions", customer=sub["customer"])["data"] == []
    assert (
        len(
            api.get("/v1/subscriptions", customer=sub["customer"], status="all")["data"]
        )
        == 1
    )


def test_a_trial_ends_with_a_paid_invoice_after_trial_will_end(
    api: Api, receiver: Receiver
) -> None:
    sub = api.subscribe(subscription_data={"trial_period_days": 14})

    api.control("advance", days=15)
    api.flush()

    assert api.get(f"/v1/subscriptions/{sub['id']}")["status"] == "active"
    assert receiver.types()[3:] == [
        "customer.subscription.trial_will_end",
        "customer.subscription.updated",
        "invoice.paid",
    ]


def test_pause_and_resume_send_their_events(api: Api, receiver: Receiver) -> None:
    sub = api.subscribe()

    paused = api.control("pause", subscription=sub["id"])["subscription"]
    resumed = api.control("resume", subscription=sub["id"])["subscription"]
    api.flush()

    assert (paused["status"], resumed["status"]) == ("paused", "active")
    assert receiver.types()[4:] == [
        "customer.subscription.paused",
        "customer.subscription.resumed",
    ]


def test_a_bank_transfer_subscription_is_active_with_a_draft_finalized_then_paid(
    api: Api, receiver: Receiver
) -> None:
    customer = api.customer()
    sub = api.ok(
        "/v1/subscriptions",
        {
            "customer": customer["id"],
            "items": [{"price": "price_plus_month"}],
            "collection_method": "send_invoice",
            "days_until_due": 14,
            "payment_settings": {"payment_method_types": ["customer_balance"]},
            "metadata": {"user_id": "u1"},
            "expand": ["latest_invoice"],
        },
    )
    draft = sub["latest_invoice"]
    assert sub["status"] == "active"
    assert (draft["status"], draft["number"], draft["hosted_invoice_url"]) == (
        "draft",
        None,
        None,
    )
    invoice = api.ok(f"/v1/invoices/{draft['id']}/finalize")
    again = api.post(f"/v1/invoices/{draft['id']}/finalize", {})
    assert invoice["status"] == "open"
    assert again.status_code == 400
    assert (
        invoice["hosted_invoice_url"]
        == f"{api.emulator.url}/invoices/{invoice['id']}/pay"
    )
    assert invoice["due_date"] == invoice["created"] + 14 * DAY

    assert httpx.get(invoice["hosted_invoice_url"]).status_code == 200
    pdf = httpx.get(invoice["invoice_pdf"])
    api.flush()

    assert api.get(f"/v1/invoices/{invoice['id']}")["status"] == "paid"
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert receiver.types() == [
        "customer.subscription.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
    ]


def test_a_draft_bank_transfer_invoice_is_finalized_an_hour_after_it_was_made(
    api: Api, receiver: Receiver
) -> None:
    customer = api.customer()
    sub = api.ok(
        "/v1/subscriptions",
        {
            "customer": customer["id"],
            "items": [{"price": "price_plus_month"}],
            "collection_method": "send_invoice",
            "days_until_due": 14,
        },
    )

    api.control("advance", minutes=59)
    still = api.get(f"/v1/invoices/{sub['latest_invoice']}")["status"]
    api.control("advance", minutes=1)

    assert still == "draft"
    assert api.get(f"/v1/invoices/{sub['latest_invoice']}")["status"] == "open"


def test_invoices_are_listed_newest_first_a_page_at_a_time(api: Api) -> None:
    sub = api.subscribe()
    for _ in range(4):
        api.control("renew", subscription=sub["id"])
    everything = api.get("/v1/invoices", customer=sub["customer"], limit=100)["data"]

    first = api.get("/v1/invoices", customer=sub["customer"], limit=2)
    second = api.get(
        "/v1/invoices",
        customer=sub["customer"],
        limit=2,
        starting_after=first["data"][-1]["id"],
    )
    last = api.get(
        "/v1/invoices",
        customer=sub["customer"],
        limit=2,
        starting_after=second["data"][-1]["id"],
    )

    assert [i["number"] for i in everything] == [
        f"EMU-{n:04d}" for n in range(5, 0, -1)
    ]
    assert (first["object"], first["url"], first["has_more"]) == (
        "list",
        "/v1/invoices",
        True,
    )
    assert [i["id"] for i in first["data"] + second["data"] + last["data"]] == [
        i["id"] for i in everything
    ]
    assert last["has_more"] is False


# --- the strata stripe commands -----------------------------------------------------


def test_the_strata_stripe_commands_drive_a_running_emulator(
    api: Api,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("STRATA_STRIPE_EMULATOR_URL", api.emulator.url)
    monkeypatch.setenv("STRATA_CLOCK_OFFSET_FILE", str(tmp_path / "cli-offset.json"))
    sub = api.subscribe()
    trial = api.subscribe(subscription_data={"trial_period_days": 30})

    assert main(["stripe", "fail-next-payment", sub["id"]]) == 0
    assert main(["stripe", "renew", sub["id"]]) == 0
    assert main(["stripe", "trial-end", trial["id"]]) == 0
    assert main(["stripe", "advance", "--hours", "2"]) == 0
    assert main(["stripe", "flush"]) == 0
    first_event = api.emulator.state.events[next(iter(api.emulator.state.events))]["id"]
    assert main(["stripe", "replay", first_event]) == 0
    assert main(["stripe", "events"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"the next payment of {sub['id']} will fail"
    assert out[1] == f"renewed {sub['id']}: now past_due (2 events)"
    assert out[2] == f"ended the trial of {trial['id']}: now active (3 events)"
    assert out[3].startswith("advanced the Stripe clock by 2 hours")
    assert out[4] == "every webhook is delivered"
    assert out[5] == f"replaying {first_event} (customer.subscription.created)"
    assert len(out[6:]) == len(api.emulator.state.events)
    assert json.loads((tmp_path / "cli-offset.json").read_text()) == 7200

    assert main(["stripe", "reset"]) == 0
    assert api.emulator.state.subscriptions == {}


def test_strata_stripe_refund_and_dispute_take_money_back_with_their_events(
    api: Api,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("STRATA_STRIPE_EMULATOR_URL", api.emulator.url)
    sub = api.subscribe()
    (charge,) = api.emulator.state.charges

    assert main(["stripe", "refund", sub["customer"], "--amount", "500"]) == 0
    assert main(["stripe", "dispute", charge, "--outcome", "lost"]) == 0
    api.flush()

    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"refunded 500 of 3000 usd on {charge}"
    assert out[1].endswith(f" of {charge}: lost")
    assert api.get(f"/v1/charges/{charge}")["amount_refunded"] == 500
    assert receiver.types()[-3:] == [
        "charge.refunded",
        "charge.dispute.created",
        "charge.dispute.closed",
    ]


def test_the_strata_stripe_commands_fail_clearly_when_no_emulator_listens(
    unused_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("STRATA_STRIPE_EMULATOR_URL", f"http://127.0.0.1:{unused_port}")

    status = main(["stripe", "advance", "--days", "1"])

    assert status == 1
    assert capsys.readouterr().err.startswith(
        f"strata: the Stripe emulator is not reachable at http://127.0.0.1:{unused_port}"
    )


def test_a_strata_stripe_command_reports_what_the_emulator_refused(
    api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STRATA_STRIPE_EMULATOR_URL", api.emulator.url)

    status = main(["stripe", "renew", "sub_missing"])

    assert status == 1
    assert "No such subscription: 'sub_missing'" in capsys.readouterr().err


# --- Stripe's own client library ------------------------------------------------------


def test_stripe_python_talks_to_the_emulator_and_accepts_its_signatures(
    api: Api, receiver: Receiver
) -> None:
    stripe = pytest.importorskip("stripe")
    client = stripe.StripeClient(
        KEY, base_addresses={"api": api.emulator.url}, max_network_retries=0
    )

    customer = client.v1.customers.create(
        params={"email": "ada@example.com", "metadata": {"user_id": "u1"}},
        options={"idempotency_key": "lib-1"},
    )
    again = client.v1.customers.create(
        params={"email": "ada@example.com", "metadata": {"user_id": "u1"}},
        options={"idempotency_key": "lib-1"},
    )
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer.id,
            "line_items": [{"price": "price_basic_month", "quantity": 1}],
        }
    )
    httpx.get(session.url)
    api.flush()
    headers, body = receiver.received[0]
    event = stripe.Webhook.construct_event(
        body.decode(), headers["stripe-signature"], SECRET
    )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.prices.retrieve("price_nope")

    assert again.id == customer.id
    assert customer.metadata["user_id"] == "u1"
    assert event.type == "customer.subscription.created"


# --- strata dev ---------------------------------------------------------------------


def test_strata_dev_refuses_a_stripe_emulator_port_that_is_taken(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STRATA_STRIPE_API_KEY", raising=False)
    with socket.socket() as taken, socket.socket() as api_port, socket.socket() as moto:
        for sock in (taken, api_port, moto):
            sock.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("STRIPE_EMULATOR_PORT", str(port))
        ports = [str(s.getsockname()[1]) for s in (api_port, moto)]
        api_port.close()
        moto.close()

        status = main(["dev", "--port", ports[0], "--aws-port", ports[1]])

    assert status == 1
    assert capsys.readouterr().err.strip() == (
        f"strata: port {port} on 127.0.0.1 is already in use (wanted for the Stripe "
        "emulator; set STRIPE_EMULATOR_PORT)"
    )


def test_strata_dev_refuses_one_port_for_the_stripe_emulator_and_the_api(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STRATA_STRIPE_API_KEY", raising=False)
    monkeypatch.setenv("STRIPE_EMULATOR_PORT", "5124")

    status = main(["dev", "--port", "5124", "--aws-port", "5125"])

    assert status == 2
    assert "the Stripe emulator cannot share port 5124" in capsys.readouterr().err


# --- seats (a subscription item's quantity) ------------------------------------------


def test_seats_prorated_later_are_billed_at_renewal_with_the_new_quantity(
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("STRATA_STRIPE_EMULATOR_URL", api.emulator.url)
    sub = api.subscribe(line_items=[{"price": "price_basic_month", "quantity": 3}])
    item = sub["items"]["data"][0]
    assert item["quantity"] == 3
    first = api.get(f"/v1/invoices/{sub['latest_invoice']}")
    assert first["amount_due"] == 3 * 3000
    api.control("advance", seconds=(item["current_period_end"] - sub["created"]) // 2)

    updated = api.ok(
        f"/v1/subscriptions/{sub['id']}",
        {
            "items": [{"id": item["id"], "quantity": 4}],
            "proration_behavior": "create_prorations",
        },
    )
    assert updated["items"]["data"][0]["quantity"] == 4
    assert updated["latest_invoice"] == sub["latest_invoice"]  # nothing invoiced yet
    assert main(["stripe", "renew", sub["id"]]) == 0

    renewal = api.get("/v1/invoices", customer=sub["customer"], limit=1)["data"][0]
    lines = renewal["lines"]["data"]
    # The pending proration (a credit for 3 seats and a charge for 4, for the
    # half period left), then the next period for 4 seats.
    assert [line["quantity"] for line in lines] == [3, 4, 4]
    assert [
        line["parent"]["subscription_item_details"]["proration"] for line in lines
    ] == [
        True,
        True,
        False,
    ]
    assert lines[2]["amount"] == 4 * 3000
    assert 0 < lines[0]["amount"] + lines[1]["amount"] <= 3000
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith(f"renewed {sub['id']}: now active, 4 seats (")
