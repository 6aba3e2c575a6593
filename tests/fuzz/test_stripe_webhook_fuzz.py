"""Stripe's webhook, fuzzed past its signature: validly signed bodies of every
shape (events of the types Strata acts on with objects half right, wrong types,
huge or odd ids, unknown users and customers) get a documented answer, 200 or a
400 problem, never a 5xx. Schemathesis cannot reach this far: it cannot sign."""

from __future__ import annotations

import json
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.application.billing import HANDLED_EVENTS
from tests.fuzz.harness import EXAMPLES, SEED, SuperAdmin
from tests.stripe_local import deliver, sign

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False),
    st.text(max_size=40),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=12), inner, max_size=3),
    ),
    max_leaves=12,
)
IDS = st.one_of(
    st.from_regex(r"(sub|cus|in|cs|si|price)_[A-Za-z0-9]{1,24}", fullmatch=True),
    st.text(min_size=1, max_size=30),
    st.text(min_size=1000, max_size=3000),  # past DynamoDB's key size
    SCALARS,
)
TIMES = st.one_of(
    st.integers(min_value=0, max_value=2**33),
    st.integers(min_value=-(2**63), max_value=2**63),
    SCALARS,
)


def item(prices: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {
            "id": IDS_OK,
            "object": st.just("subscription_item"),
            "current_period_end": TIMES_OK,
            "price": st.fixed_dictionaries(
                {"id": prices, "currency": st.sampled_from(["usd", "eur"])}
            ),
        }
    )


# Well-formed values: most events get past parsing to the handler's own rules.
IDS_OK = st.from_regex(r"(sub|cus|in|cs|si|evt)_[A-Za-z0-9]{1,24}", fullmatch=True)
TIMES_OK = st.integers(min_value=1_500_000_000, max_value=2_100_000_000)


def objects(user_ids: list[str], customers: list[str]) -> st.SearchStrategy[Any]:
    users = st.one_of(st.sampled_from(user_ids), IDS_OK)
    customer = st.one_of(st.sampled_from(customers), IDS_OK)
    prices = st.one_of(
        st.sampled_from(["price_pro_month_usd", "price_business_year_eur"]), IDS_OK
    )
    metadata = st.fixed_dictionaries({}, optional={"user_id": users})
    subscription = st.fixed_dictionaries(
        {
            "id": IDS_OK,
            "object": st.just("subscription"),
            "customer": customer,
            "status": st.sampled_from(
                ["active", "trialing", "past_due", "canceled", "unpaid", "brand_new"]
            ),
            "cancel_at_period_end": st.booleans(),
            "currency": st.sampled_from(["usd", "eur"]),
            "trial_end": st.one_of(st.none(), TIMES_OK),
            "metadata": metadata,
            "items": st.fixed_dictionaries(
                {"object": st.just("list"), "data": st.lists(item(prices), max_size=2)}
            ),
        }
    )
    invoice = st.fixed_dictionaries(
        {
            "id": IDS_OK,
            "object": st.just("invoice"),
            "customer": customer,
            "status": st.sampled_from(["paid", "open", "draft", "void"]),
            "amount_due": st.integers(min_value=0, max_value=2**40),
            "amount_paid": st.integers(min_value=0, max_value=2**40),
            "currency": st.sampled_from(["usd", "eur"]),
            "created": TIMES_OK,
            "hosted_invoice_url": st.one_of(st.none(), st.text(max_size=50)),
            "parent": st.fixed_dictionaries(
                {
                    "subscription_details": st.fixed_dictionaries(
                        {"subscription": st.one_of(st.none(), IDS_OK)}
                    )
                }
            ),
        }
    )
    checkout = st.fixed_dictionaries(
        {
            "id": IDS_OK,
            "object": st.just("checkout.session"),
            "customer": customer,
            "subscription": st.one_of(st.none(), IDS_OK),
            "client_reference_id": st.one_of(st.none(), users),
            "metadata": metadata,
        }
    )
    return st.one_of(subscription, invoice, checkout)


def well_formed(user_ids: list[str], customers: list[str]) -> st.SearchStrategy[Any]:
    types = st.one_of(
        st.sampled_from(sorted(HANDLED_EVENTS)),
        st.sampled_from(["invoice.upcoming", "customer.created", "ping"]),
    )
    return st.fixed_dictionaries(
        {
            "id": IDS_OK,
            "object": st.just("event"),
            "type": types,
            "created": TIMES_OK,
            "data": st.fixed_dictionaries({"object": objects(user_ids, customers)}),
        },
        optional={"api_version": st.just("2026-10-28.endive")},
    )


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*path, index))
    return found


@st.composite
def events(draw: Any, user_ids: list[str], customers: list[str]) -> Any:
    """A well-formed event, as often as not with one field made wrong: replaced by
    any JSON (an odd id, a huge number, a list where an object belongs) or
    removed."""
    event = draw(well_formed(user_ids, customers))
    if draw(st.booleans()):
        return event
    path = draw(st.sampled_from(_paths(event)))
    parent = event
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(st.one_of(IDS, TIMES, JSON))
    return event


def check(reply: Any, body: str = "") -> None:
    assert reply.status in (200, 400), (reply.status, reply.text)
    if reply.status == 200:
        assert reply.headers["content-type"] == "application/json"
        body = reply.json()
        assert body["received"] is True
        assert body["outcome"] in ("applied", "duplicate", "ignored")
    else:
        assert reply.headers["content-type"] == "application/problem+json"
        assert reply.json()["code"] == "invalid_signature"


def test_no_signed_body_gets_a_5xx_or_an_undocumented_answer(
    paying_super_admin: Any, super_admin: SuperAdmin
) -> None:
    container = super_admin.container
    root = container.users.get_by_username(super_admin.username)
    assert root.billing.customer_id
    user_ids = [root.id]
    customers = [root.billing.customer_id]

    @settings(
        max_examples=max(EXAMPLES * 10, 100),
        deadline=None,
        derandomize=SEED is None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(event=events(user_ids, customers))
    def run(event: dict[str, Any]) -> None:
        body = json.dumps(event)
        check(deliver(body, sign(body)), body)
        # A second delivery of the same bytes is as well-behaved.
        check(deliver(body, sign(body, timestamp=int(time.time()))), body)

    run()
