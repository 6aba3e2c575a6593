"""Helpers for the function tests: people with roles, logged in through the handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.domain.billing import Interval, Subscription, SubscriptionStatus
from core.domain.user import Role, User
from functions.catalog import BY_NAME
from local.harness import Reply, invoke

PASSWORD = "correct horse battery"
PROBLEM_JSON = "application/problem+json"


def assert_problem(reply: Reply, status: int, code: str) -> dict[str, Any]:
    """``reply`` is an RFC 9457 problem with this status and code; returns its body."""
    assert reply.status == status, reply.text
    assert reply.headers["content-type"] == PROBLEM_JSON
    # Problem details are text: API Gateway should not get them base64-encoded.
    assert reply.raw.get("isBase64Encoded") is False
    body = reply.json()
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["type"] == "about:blank"
    return dict(body)


def metric_counts(output: str, *dimensions: str) -> dict[tuple[Any, ...], float]:
    """The counts in the embedded-metric-format lines of ``output`` (what a handler
    wrote to stdout), summed by metric name and the values of ``dimensions``."""
    found: dict[tuple[Any, ...], float] = {}
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        for directive in record.get("_aws", {}).get("CloudWatchMetrics", []):
            for metric in directive["Metrics"]:
                value = record[metric["Name"]]
                total = sum(value) if isinstance(value, list) else value
                key = (metric["Name"], *(record.get(d) for d in dimensions))
                found[key] = found.get(key, 0) + total
    return found


@dataclass
class Api:
    """Calls endpoints by catalog name, and sets up who calls them."""

    container: Any

    def call(self, name: str, path: str | None = None, **kwargs: Any) -> Reply:
        return invoke(BY_NAME[name], path, **kwargs)

    def user(
        self, username: str, role: Role = Role.USER, password: str = PASSWORD
    ) -> User:
        """A stored user, made the way the management command makes one, as read
        back (with its stored version)."""
        made = self.container.registrar().register(
            username, f"{username}@example.com", password, role
        )
        stored: User = self.container.users.get(made.id)
        return stored

    def log_in(self, username: str, password: str = PASSWORD) -> str:
        """The cookie (``access_token=...``) a successful log-in hands out."""
        reply = self.call(
            "login", json_body={"username": username, "password": password}
        )
        assert reply.status == 204, reply.text
        token = reply.cookie("access_token")
        assert token
        return f"access_token={token}"

    def as_(
        self, username: str, role: Role = Role.USER, plan: str | None = None
    ) -> str:
        """Make ``username`` with ``role`` and a verified email (subscribed to
        ``plan`` if given) and log them in; their cookie."""
        user = self.container.users.save(
            self.user(username, role).with_email_verified()
        )
        if plan is not None:
            self.subscribe(user, plan)
        return self.log_in(username)

    def subscribe(
        self,
        user: User,
        plan: str,
        status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    ) -> User:
        """Store an active subscription to ``plan`` on ``user``, as the webhook
        would after a checkout (for tests of what a plan allows, not of billing)."""
        subscription = self._subscription(user.id, plan, status)
        current: User = self.container.users.get(user.id)
        saved: User = self.container.users.save(
            current.with_billing(current.billing.with_subscription(subscription))
        )
        return saved

    def subscribe_org(
        self,
        org_id: str,
        plan: str,
        status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    ) -> None:
        """``subscribe`` for an organization (on the in-memory store): what its
        checkout's webhook would store, for tests of what its plan allows."""
        subscription = self._subscription(org_id, plan, status)
        current = self.container.orgs.get(org_id)
        assert current is not None, org_id
        self.container.orgs.set_billing(
            org_id, current.billing.with_subscription(subscription)
        )

    def _subscription(
        self, owner_id: str, plan: str, status: SubscriptionStatus
    ) -> Subscription:
        found = self.container.catalog.get(plan)
        assert found is not None, plan
        assert found.prices, plan
        price = found.prices[0]
        now = datetime.now(UTC)
        return Subscription(
            id=f"sub_test_{owner_id}",
            status=status,
            price_id=price.id,
            plan_key=found.key,
            interval=Interval(price.interval),
            currency=price.currency,
            item_id=f"si_test_{owner_id}",
            current_period_end=now + timedelta(days=30),
            cancel_at_period_end=False,
            observed_at=now,
        )


@pytest.fixture
def api(container: Any) -> Api:
    return Api(container)
