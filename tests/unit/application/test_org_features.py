"""The organization feature rule: a feature is checked against the organization's
own plan, by the person's rule (paid, trialing, or inside the grace period of a
failed payment; canceled, unpaid and not-yet-paid give the free plan), from the
organization already read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.application.billing import BillingConfig
from core.application.errors import PlanRequired
from core.application.org_features import AUDIT_LOG, require_org_feature
from core.domain.billing import Billing, Interval, Subscription, SubscriptionStatus
from core.domain.organization import Organization, OrgName
from tests.unit.application.conftest import GRACE

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def org_on(
    plan_key: str | None,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    *,
    past_due_since: datetime | None = None,
    awaiting_first_payment: bool = False,
) -> Organization:
    """An organization subscribed to ``plan_key`` in ``status`` (``None``: never
    subscribed)."""
    subscription = None
    if plan_key is not None:
        subscription = Subscription(
            id="sub_org",
            status=status,
            price_id=f"price_{plan_key}_month_usd",
            plan_key=plan_key,
            interval=Interval.MONTH,
            currency="usd",
            item_id="si_org",
            current_period_end=NOW + timedelta(days=20),
            cancel_at_period_end=False,
            observed_at=NOW - timedelta(days=10),
            past_due_since=past_due_since,
            awaiting_first_payment=awaiting_first_payment,
        )
    return Organization(
        id="org1",
        name=OrgName("Acme"),
        created_at=NOW - timedelta(days=30),
        created_by="owner",
        plan_key=plan_key or "free",
        billing=Billing("cus_org", subscription),
    )


@pytest.mark.parametrize(
    "org",
    [
        org_on("business"),
        org_on("business", SubscriptionStatus.TRIALING),
        org_on(
            "business",
            SubscriptionStatus.PAST_DUE,
            past_due_since=NOW - GRACE + timedelta(minutes=1),
        ),
    ],
    ids=["active", "trialing", "past_due_inside_grace"],
)
def test_an_org_paying_for_a_plan_with_the_feature_has_it(
    billing_config: BillingConfig, org: Organization
) -> None:
    require_org_feature(billing_config, org, AUDIT_LOG, NOW)


@pytest.mark.parametrize(
    "org",
    [
        org_on(None),
        org_on("pro"),
        org_on("business", SubscriptionStatus.CANCELED),
        org_on("business", SubscriptionStatus.UNPAID),
        org_on("business", SubscriptionStatus.INCOMPLETE),
        org_on("business", SubscriptionStatus.PAUSED),
        org_on("business", SubscriptionStatus.PAST_DUE, past_due_since=NOW - GRACE),
        org_on("business", awaiting_first_payment=True),
    ],
    ids=[
        "never_subscribed",
        "plan_without_it",
        "canceled",
        "unpaid",
        "incomplete",
        "paused",
        "past_due_after_grace",
        "bank_transfer_not_paid_yet",
    ],
)
def test_an_org_without_the_feature_in_force_is_told_the_plans_that_have_it(
    billing_config: BillingConfig, org: Organization
) -> None:
    with pytest.raises(PlanRequired) as refused:
        require_org_feature(billing_config, org, AUDIT_LOG, NOW)

    assert refused.value.code == "plan_required"
    assert refused.value.feature == AUDIT_LOG
    assert refused.value.plans == ["business"]
