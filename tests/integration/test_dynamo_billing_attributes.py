"""The billing attributes that users and organizations share
(``billing_attributes``), read past the adapters: both items keep the names, one
top-level attribute each, and the encodings their billing was always stored
with, so items written before the two declarations became one read back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.adapters.dynamodb.models import UserItem, dynamodb_client, user_key
from core.adapters.dynamodb.org_billing import DynamoOrgBillingStore
from core.adapters.dynamodb.org_models import ORG_SK, OrgItem, org_pk
from core.adapters.dynamodb.orgs import DynamoOrganizationStore
from core.adapters.dynamodb.users import DynamoUserRepository
from core.domain.billing import Billing, Interval, Subscription, SubscriptionStatus
from core.domain.organization import (
    AuditAction,
    AuditEntry,
    Membership,
    Organization,
    OrgName,
    OrgRole,
)
from tests.integration.conftest import MakeUser

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
# Every billing attribute of a user item, by the name it is stored under.
BILLING_NAMES = {
    "stripe_customer_id",
    "sub_id",
    "sub_status",
    "sub_price_id",
    "sub_plan",
    "sub_interval",
    "sub_currency",
    "sub_item_id",
    "sub_period_end",
    "sub_cancel_at_period_end",
    "sub_observed_at",
    "sub_trial_end",
    "sub_past_due_since",
    "sub_awaiting_payment",
    "sub_by_invoice",
}


def every_field(quantity: int = 1) -> Billing:
    """A customer and a subscription with every optional field set."""
    return Billing(
        "cus_1",
        Subscription(
            id="sub_1",
            status=SubscriptionStatus.PAST_DUE,
            price_id="price_business_month_usd",
            plan_key="business",
            interval=Interval.YEAR,
            currency="usd",
            item_id="si_1",
            current_period_end=NOW + timedelta(days=30),
            cancel_at_period_end=True,
            observed_at=NOW,
            trial_end=NOW - timedelta(days=14),
            past_due_since=NOW - timedelta(days=1),
            awaiting_first_payment=True,
            paid_by_invoice=True,
            quantity=quantity,
        ),
    )


def raw(table: str, key: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = dynamodb_client().get_item(
        TableName=table, Key=key, ConsistentRead=True
    )["Item"]
    return item


def billing_part(item: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value
        for name, value in item.items()
        if name.startswith(("sub_", "stripe_"))
    }


# The stored form of ``every_field()``, attribute by attribute.
STORED = {
    "stripe_customer_id": {"S": "cus_1"},
    "sub_id": {"S": "sub_1"},
    "sub_status": {"S": "past_due"},
    "sub_price_id": {"S": "price_business_month_usd"},
    "sub_plan": {"S": "business"},
    "sub_interval": {"S": "year"},
    "sub_currency": {"S": "usd"},
    "sub_item_id": {"S": "si_1"},
    "sub_period_end": {"S": "2026-12-27T12:00:00.000000+0000"},
    "sub_cancel_at_period_end": {"BOOL": True},
    "sub_observed_at": {"S": "2026-11-27T12:00:00.000000+0000"},
    "sub_trial_end": {"S": "2026-11-13T12:00:00.000000+0000"},
    "sub_past_due_since": {"S": "2026-11-26T12:00:00.000000+0000"},
    "sub_awaiting_payment": {"BOOL": True},
    "sub_by_invoice": {"BOOL": True},
}


def test_a_users_billing_is_stored_under_the_names_it_always_had(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    user = users.add(make_user())

    saved = users.save(user.with_billing(every_field()))

    stored = raw(UserItem.Meta.table_name, {"pk": {"S": user_key(user.id)}})
    assert set(STORED) == BILLING_NAMES
    assert billing_part(stored) == STORED
    assert users.get(user.id) == saved


@pytest.mark.parametrize("written_by", ["create", "save_billing"])
def test_an_orgs_billing_is_stored_under_the_same_names_and_its_quantity(
    tables: None, written_by: str
) -> None:
    orgs, store = DynamoOrganizationStore(), DynamoOrgBillingStore()
    org = Organization(
        id="org1",
        name=OrgName("Acme"),
        created_at=NOW,
        created_by="owner",
        plan_key="business",
        seat_limit=50,
    )
    owner = Membership(org.id, "owner", OrgRole.OWNER, NOW)
    created = AuditEntry(
        id="audit1",
        log=org.id,
        actor="owner",
        action=AuditAction.ORG_CREATED,
        target=org.id,
        at=NOW,
        expires_at=NOW + timedelta(days=365),
    )
    billing = every_field(quantity=3)
    if written_by == "create":  # a whole item, put
        made = orgs.create(replace(org, billing=billing), owner, created)
    else:  # an update expression of the billing attributes
        made = orgs.create(org, owner, created)
        made = store.save_billing(replace(made, billing=billing))

    stored = raw(
        OrgItem.Meta.table_name,
        {"pk": {"S": org_pk(org.id)}, "sk": {"S": ORG_SK}},
    )
    assert billing_part(stored) == {**STORED, "sub_quantity": {"N": "3"}}
    assert orgs.get(org.id) == made
    assert made.billing == billing
