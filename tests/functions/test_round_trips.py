"""The round-trip budget: what each request costs in DynamoDB calls, and that it only
touches what its catalog entry is allowed to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from core.adapters.tokens import JwtTokenCodec
from core.domain.session import Session
from functions.catalog import BY_NAME, ENDPOINTS, STRIPE_API
from functions.permissions import INDEX_PERMISSIONS
from functions.runtime.settings import get_settings
from tests.conftest import DynamoCalls
from tests.functions.conftest import Api, assert_problem
from tools.roundtrips import measure, measure_detailed, measure_walk

# Counts DynamoDB calls of the real adapters: the handlers run on moto.
pytestmark = pytest.mark.moto

READS = {"GetItem", "BatchGetItem", "Query"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
PUBLIC = {
    "root",
    "docs",
    "redoc",
    "docs_assets",
    "openapi",
    "health",
    "signup",
    "login",
    "verify_email",
    "password_reset",
    "password_reset_confirm",
    "billing_plans",
    # Stripe's webhook: a signature instead of a session.
    "stripe_webhook",
}

# The most calls one successful request of each endpoint may make, and the most
# Stripe API requests (each a round trip to Stripe over the internet, dearer than a
# DynamoDB call): declared by each endpoint (``budget=``, ``stripe=``). Raising a
# number there is a design decision, not a test fix.
BUDGET = {endpoint.name: endpoint.budget or 0 for endpoint in ENDPOINTS}
STRIPE_BUDGET = {e.name: e.stripe for e in ENDPOINTS if e.stripe}


class ShiftedClock:
    def __init__(self, by: timedelta) -> None:
        self.by = by

    def now(self) -> datetime:
        return datetime.now(UTC) + self.by


# -- authentication --------------------------------------------------------------------


def test_a_protected_request_with_a_valid_token_costs_one_batch_get_of_both_tables(
    api: Api, dynamo_calls: DynamoCalls
) -> None:
    cookie = api.as_("alice01")
    dynamo_calls.reset()

    reply = api.call("me", cookies=[cookie])

    assert reply.status == 200, reply.text
    assert dict(dynamo_calls.counts) == {"BatchGetItem": 1}
    settings = get_settings()
    assert set(dynamo_calls.tables) == {
        ("BatchGetItem", settings.users_table),
        ("BatchGetItem", settings.sessions_table),
    }


def a_session(user_id: str, expires_in: timedelta) -> Session:
    now = datetime.now(UTC)
    return Session(
        id="0" * 32,
        user_id=user_id,
        created_at=now - timedelta(hours=1),
        expires_at=now + expires_in,
    )


def claims(user_id: str) -> dict[str, Any]:
    return {
        "sid": "0" * 32,
        "sub": user_id,
        "iat": int(datetime.now(UTC).timestamp()),
        "exp": int((datetime.now(UTC) + timedelta(minutes=10)).timestamp()),
    }


SECRET = get_settings().jwt_secret_value()

FORGED: dict[str, Callable[[str], str]] = {
    "expired": lambda uid: JwtTokenCodec(SECRET).issue(
        a_session(uid, -timedelta(seconds=5))
    ),
    "wrong-key": lambda uid: JwtTokenCodec(
        "another secret, 32 characters or more!"
    ).issue(a_session(uid, timedelta(minutes=10))),
    "alg-none": lambda uid: jwt.encode(claims(uid), "", algorithm="none"),
    "other-alg": lambda uid: jwt.encode(claims(uid), SECRET, algorithm="HS384"),
    "no-session-claim": lambda uid: jwt.encode(
        {k: v for k, v in claims(uid).items() if k != "sid"}, SECRET, algorithm="HS256"
    ),
    "tampered-payload": lambda uid: (
        lambda t: t.split(".")[0] + "." + t.split(".")[1][:-2] + "AA." + t.split(".")[2]
    )(JwtTokenCodec(SECRET).issue(a_session(uid, timedelta(minutes=10)))),
    "garbage": lambda uid: "not.a.token",
}


@pytest.mark.parametrize("name", ["me", "logout", "list_users"])
@pytest.mark.parametrize("forgery", list(FORGED))
def test_an_expired_or_forged_token_is_refused_without_any_dynamodb_call(
    api: Api, dynamo_calls: DynamoCalls, forgery: str, name: str
) -> None:
    alice = api.user("alice01")
    token = FORGED[forgery](alice.id)
    dynamo_calls.reset()

    reply = api.call(name, cookies=[f"access_token={token}"])

    assert_problem(reply, 401, "not_authenticated")
    assert dynamo_calls.total == 0
    assert reply.cookies == []


def test_a_token_of_an_ended_session_costs_one_read_and_is_refused(
    api: Api, dynamo_calls: DynamoCalls
) -> None:
    cookie = api.as_("alice01")
    assert api.call("logout", cookies=[cookie]).status == 204
    dynamo_calls.reset()

    reply = api.call("me", cookies=[cookie])

    assert_problem(reply, 401, "not_authenticated")
    assert dict(dynamo_calls.counts) == {"BatchGetItem": 1}


def test_a_session_with_most_of_its_life_left_is_not_renewed(
    api: Api, dynamo_calls: DynamoCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookie = api.as_("alice01")
    ttl = timedelta(seconds=api.container.settings.session_ttl_seconds)
    share = api.container.settings.session_renew_threshold
    # Just more than the renewal share of the lifetime left.
    monkeypatch.setattr(
        api.container, "clock", ShiftedClock(ttl * (1 - share) - timedelta(seconds=30))
    )
    dynamo_calls.reset()

    reply = api.call("me", cookies=[cookie])

    assert reply.status == 200, reply.text
    assert dict(dynamo_calls.counts) == {"BatchGetItem": 1}
    assert reply.cookies == []


def test_a_session_running_low_is_renewed_with_one_write_and_a_fresh_cookie(
    api: Api, dynamo_calls: DynamoCalls, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = api.user("alice01")
    cookie = api.log_in("alice01")
    ttl = timedelta(seconds=api.container.settings.session_ttl_seconds)
    share = api.container.settings.session_renew_threshold
    # Less than the renewal share of the lifetime left.
    shift = ttl * (1 - share) + timedelta(seconds=30)
    monkeypatch.setattr(api.container, "clock", ShiftedClock(shift))
    session_id = api.container.tokens.read(cookie.split("=", 1)[1]).session_id
    before, _ = api.container.sessions.get_with_user(session_id, alice.id)
    dynamo_calls.reset()

    reply = api.call("me", cookies=[cookie])

    assert reply.status == 200, reply.text
    assert dict(dynamo_calls.counts) == {"BatchGetItem": 1, "UpdateItem": 1}
    assert set(dynamo_calls.tables) == {
        ("BatchGetItem", get_settings().users_table),
        ("BatchGetItem", get_settings().sessions_table),
        ("UpdateItem", get_settings().sessions_table),
    }
    renewed = reply.cookie("access_token")
    assert renewed
    assert f"access_token={renewed}" != cookie
    (set_cookie,) = reply.cookies
    assert "HttpOnly" in set_cookie
    assert "Path=/" in set_cookie
    after, _ = api.container.sessions.get_with_user(session_id, alice.id)
    assert after.expires_at >= before.expires_at + shift - timedelta(seconds=2)
    claims_ = api.container.tokens.read(renewed)
    assert claims_.session_id == session_id
    assert claims_.expires_at == after.expires_at
    assert api.call("me", cookies=[f"access_token={renewed}"]).status == 200


# -- the whole catalog -----------------------------------------------------------------


@pytest.fixture
def walked(container: Any) -> dict[str, Any]:
    return measure_detailed()


def test_the_walk_covers_every_catalog_endpoint_in_catalog_order(
    walked: dict[str, Any],
) -> None:
    assert list(walked) == [endpoint.name for endpoint in ENDPOINTS]
    assert sum(calls.total for calls in walked.values()) > 0


def test_no_endpoint_issues_a_scan(container: Any) -> None:
    budget = measure()

    assert budget
    assert sum(sum(ops.values()) for ops in budget.values()) > 0
    offenders = {name: ops for name, ops in budget.items() if "Scan" in ops}
    assert offenders == {}


def test_every_endpoint_declares_its_round_trip_budget() -> None:
    undeclared = [
        f"{e.module}: add budget=<most DynamoDB calls of one request> to @api.endpoint"
        for e in ENDPOINTS
        if e.budget is None
    ]

    assert undeclared == []


def test_every_endpoint_stays_within_its_round_trip_budget(
    walked: dict[str, Any],
) -> None:
    over = {
        name: calls.total
        for name, calls in walked.items()
        if calls.total > BUDGET[name]
    }

    assert over == {}
    assert set(BUDGET) == set(walked)


def test_every_endpoint_stays_within_its_stripe_budget(
    walked: dict[str, Any],
) -> None:
    over = {
        name: dict(calls.stripe)
        for name, calls in walked.items()
        if calls.stripe_total > STRIPE_BUDGET.get(name, 0)
    }

    assert over == {}
    assert {name for name, c in walked.items() if c.stripe_total} == set(STRIPE_BUDGET)


def test_only_endpoints_allowed_to_call_stripe_do_and_those_all_do(
    walked: dict[str, Any],
) -> None:
    for name, calls in walked.items():
        assert (calls.stripe_total > 0) == (STRIPE_API in BY_NAME[name].permissions), (
            name
        )


def test_the_billing_requests_beside_their_endpoints_are_measured_too(
    container: Any,
) -> None:
    variants = measure_walk().variants

    preview = variants["billing_change ?preview=true"]
    assert (preview.total, dict(preview.stripe)) == (
        1,
        {"POST /v1/invoices/create_preview": 1},
    )
    events = {
        label.split(" ", 1)[1]: calls
        for label, calls in variants.items()
        if label.startswith("stripe_webhook ")
    }
    assert set(events) == {
        "customer.subscription.created",
        "invoice.paid",
        "customer.subscription.updated",
        "checkout.session.completed",
    }
    for event_type, calls in events.items():
        assert calls.total <= BUDGET["stripe_webhook"], event_type
        assert calls.stripe_total <= STRIPE_BUDGET["stripe_webhook"], event_type
        assert "BatchGetItem" not in calls.operations, event_type
    # The subscription event carries the state: no need to ask Stripe.
    assert events["customer.subscription.created"].stripe_total == 0


def test_every_protected_endpoint_authenticates_with_exactly_one_batch_get(
    walked: dict[str, Any],
) -> None:
    # The session and its user in one BatchGet; an organization's route reads the
    # organization with the caller's membership in a BatchGet of its own (orgs).
    settings = get_settings()
    for name, calls in walked.items():
        expected = 0 if name in PUBLIC else 1
        assert calls.tables[("BatchGetItem", settings.sessions_table)] == expected, name
        of_orgs = calls.tables[("BatchGetItem", settings.orgs_table)]
        assert calls.operations["BatchGetItem"] == expected + of_orgs, name


ORG_SCOPED = [e.name for e in ENDPOINTS if e.path.startswith("/api/v1/orgs/{org_id}")]


def test_an_org_scoped_request_costs_one_read_more_than_a_personal_one(
    walked: dict[str, Any],
) -> None:
    # A member reading the organization pays the session's BatchGet, as for
    # GET /account/me, and one read more: the organization with the membership.
    assert walked["get_organization"].total == walked["me"].total + 1
    orgs = get_settings().orgs_table
    for name in ORG_SCOPED:
        calls = walked[name]
        assert calls.tables[("BatchGetItem", orgs)] >= 1, name


def table_alias(table: str) -> str:
    settings = get_settings()
    aliases = {
        settings.users_table: "users",
        settings.sessions_table: "sessions",
        settings.tasks_table: "tasks",
        settings.orgs_table: "orgs",
    }
    return aliases[table]


def access_of(operation: str) -> str:
    if operation in READS:
        return "read"
    if operation in WRITES:
        return "write"
    raise AssertionError(f"an operation the catalog has no permission for: {operation}")


def test_every_endpoint_touches_only_what_its_catalog_permissions_allow(
    walked: dict[str, Any],
) -> None:
    for name, calls in walked.items():
        used = {f"{table_alias(table)}:{access_of(op)}" for op, table in calls.tables}
        assert used <= set(BY_NAME[name].permissions), name
        assert sum(calls.tables.values()) >= calls.total, name


def test_every_endpoint_queries_only_the_indexes_its_declaration_grants(
    walked: dict[str, Any],
) -> None:
    """IAM allows Query on an index only to the functions declaring its permission
    (moto does not enforce IAM: this is where a missing one shows)."""
    settings = get_settings()
    physical = {
        "users": settings.users_table,
        "sessions": settings.sessions_table,
        "orgs": settings.orgs_table,
    }
    ungranted = {}
    for name, calls in walked.items():
        granted = {
            (physical[table], index)
            for permission in BY_NAME[name].permissions
            if permission in INDEX_PERMISSIONS
            for table, indexes in [INDEX_PERMISSIONS[permission]]
            for index in indexes
        }
        if set(calls.indexes) - granted:
            ungranted[name] = sorted(set(calls.indexes) - granted)

    assert ungranted == {}
    queried = {name for name, calls in walked.items() if calls.indexes}
    assert {"list_users", "change_password", "deactivate_user"} <= queried
