"""``OrgBillingStore`` and ``OrganizationSeats`` on DynamoDB: an organization's
billing state on its item in the organizations table, the customer claims beside
it, the processed webhook events in the tasks table (with the persons' ones, so a
single ``was_processed`` serves both), and the sparse index ``seated_orgs`` of the
organizations whose subscription has not ended."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from core.adapters.dynamodb.billing_attributes import billing_values
from core.adapters.dynamodb.errors import CONDITION_FAILED, storage_errors
from core.adapters.dynamodb.models import (
    StripeEventItem,
    stripe_event_key,
    table_connection,
)
from core.adapters.dynamodb.org_models import (
    CUSTOMER_SK,
    ORG_SK,
    SEATED,
    AuditItem,
    CustomerClaimItem,
    OrgItem,
    customer_pk,
    org_pk,
)
from core.adapters.dynamodb.orgs import CONDITIONAL_FAILED, audit_item
from core.application.errors import ConcurrentUpdate, DuplicateEvent, InvalidCursor
from core.application.ports import Position, SeatedPage, SeatedSubscription
from core.domain.organization import AuditEntry, Organization, OrganizationNotFound
from core.domain.seats import SeatsExhausted

_SEATED_KEYS = ("seated", "pk", "sk")


def _billing_actions(org: Organization) -> list[Any]:
    """The update of the organization item's billing attributes (and of its plan
    and seat limit, which follow them) to ``org``'s: set, or removed when empty."""
    subscription = org.billing.subscription
    values: list[tuple[Any, Any]] = [
        (OrgItem.plan_key, org.plan_key),
        (OrgItem.seat_limit, org.seat_limit),
        *billing_values(org.billing),
        (OrgItem.sub_quantity, None if subscription is None else subscription.quantity),
        (
            OrgItem.seated,
            None if subscription is None or subscription.is_terminal else SEATED,
        ),
    ]
    return [
        attribute.remove() if value is None else attribute.set(value)
        for attribute, value in values
    ] + [OrgItem.version.add(1)]


def _release_actions() -> list[Any]:
    """The removal of a seat hold (``hold_seats``)."""
    return [
        OrgItem.seat_hold.remove(),
        OrgItem.seat_hold_plan.remove(),
        OrgItem.seat_hold_until.remove(),
    ]


def _key(org_id: str) -> OrgItem:
    return OrgItem(pk=org_pk(org_id), sk=ORG_SK)


def _org_gone(org_id: str) -> bool:
    try:
        OrgItem.get(org_pk(org_id), ORG_SK, consistent_read=True)
    except DoesNotExist:
        return True
    return False


def _codes(exc: TransactWriteError) -> list[str | None]:
    reasons = exc.cancellation_reasons or []
    return [reason.code if reason else None for reason in reasons]


class DynamoOrgBillingStore:
    """See ``OrgBillingStore``. Each write is one TransactWriteItems whose
    condition is the organization's version as read."""

    def attach_customer(self, org: Organization, customer_id: str) -> Organization:
        updated = replace(org, billing=org.billing.with_customer(customer_id))
        with storage_errors():
            try:
                with TransactWrite(
                    connection=table_connection(OrgItem).connection
                ) as transaction:
                    # pynamodb sends puts before updates: the claim's reason first.
                    transaction.save(
                        CustomerClaimItem(
                            pk=customer_pk(customer_id), sk=CUSTOMER_SK, org_id=org.id
                        ),
                        condition=(
                            CustomerClaimItem.pk.does_not_exist()
                            | (CustomerClaimItem.org_id == org.id)
                        ),
                    )
                    transaction.update(
                        _key(org.id),
                        actions=_billing_actions(updated),
                        condition=OrgItem.version == org.version,
                    )
            except TransactWriteError as exc:
                self._explain(org, exc)
        return replace(updated, version=org.version + 1)

    def org_of_customer(self, customer_id: str) -> str | None:
        with storage_errors():
            try:
                claim = CustomerClaimItem.get(
                    customer_pk(customer_id), CUSTOMER_SK, consistent_read=True
                )
            except DoesNotExist:
                return None
        return claim.org_id

    def save_billing(
        self,
        org: Organization,
        audit: AuditEntry | None = None,
        release_hold: bool = False,
    ) -> Organization:
        actions = _billing_actions(org)
        if release_hold:
            actions += _release_actions()
        with storage_errors():
            try:
                with TransactWrite(
                    connection=table_connection(OrgItem).connection
                ) as transaction:
                    if audit is not None:
                        transaction.save(
                            audit_item(audit), condition=AuditItem.pk.does_not_exist()
                        )
                    transaction.update(
                        _key(org.id),
                        actions=actions,
                        condition=OrgItem.version == org.version,
                    )
            except TransactWriteError as exc:
                self._explain(org, exc)
        return replace(org, version=org.version + 1)

    def hold_seats(
        self, org_id: str, plan_key: str, limit: int, until: datetime
    ) -> None:
        with storage_errors():
            try:
                # One UpdateItem, the version left alone (see the port).
                _key(org_id).update(
                    actions=[
                        OrgItem.seat_hold.set(limit),
                        OrgItem.seat_hold_plan.set(plan_key),
                        OrgItem.seat_hold_until.set(until),
                    ],
                    condition=OrgItem.pk.exists() & (OrgItem.seats_used <= limit),
                )
            except UpdateError as exc:
                if exc.cause_response_code != CONDITION_FAILED:
                    raise
                try:
                    item = OrgItem.get(org_pk(org_id), ORG_SK, consistent_read=True)
                except DoesNotExist:
                    raise OrganizationNotFound() from None
                raise SeatsExhausted(plan_key, limit, int(item.seats_used)) from None

    def release_seat_hold(self, org_id: str, limit: int) -> None:
        with storage_errors():
            try:
                _key(org_id).update(
                    actions=_release_actions(),
                    condition=OrgItem.seat_hold == limit,
                )
            except UpdateError as exc:
                if exc.cause_response_code != CONDITION_FAILED:
                    raise

    def record_event(
        self,
        event_id: str,
        event_type: str,
        now: datetime,
        expires_at: datetime,
        org: Organization | None = None,
        audit: AuditEntry | None = None,
    ) -> None:
        event = StripeEventItem(
            id=stripe_event_key(event_id),
            type=event_type,
            processed_at=now,
            expires_at=expires_at,
        )
        with storage_errors():
            try:
                # One transaction across the tasks and organizations tables.
                with TransactWrite(
                    connection=table_connection(OrgItem).connection
                ) as transaction:
                    transaction.save(
                        event, condition=StripeEventItem.id.does_not_exist()
                    )
                    if audit is not None:
                        # After the event's put: its reason stays the first.
                        transaction.save(
                            audit_item(audit), condition=AuditItem.pk.does_not_exist()
                        )
                    if org is not None:
                        transaction.update(
                            _key(org.id),
                            actions=_billing_actions(org),
                            condition=OrgItem.version == org.version,
                        )
            except TransactWriteError as exc:
                # Puts go before updates: the event's reason comes first.
                if _codes(exc)[:1] == [CONDITIONAL_FAILED]:
                    raise DuplicateEvent() from None
                if org is None:
                    raise
                self._explain(org, exc)

    @staticmethod
    def _explain(org: Organization, exc: TransactWriteError) -> None:
        if CONDITIONAL_FAILED not in _codes(exc):
            if "TransactionConflict" in _codes(exc):
                raise ConcurrentUpdate() from None
            raise exc
        if _org_gone(org.id):
            raise OrganizationNotFound() from None
        raise ConcurrentUpdate() from None


class DynamoOrganizationSeats:
    """See ``OrganizationSeats``: a Query of ``seated_orgs`` (no Scan), each
    organization with its member count as stored on its item."""

    def seated_subscriptions(self, limit: int, start: Position | None) -> SeatedPage:
        start_key = None
        if start is not None:
            if set(start) != set(_SEATED_KEYS) or start.get("seated") != SEATED:
                raise InvalidCursor()
            start_key = {name: {"S": str(start[name])} for name in _SEATED_KEYS}
        with storage_errors():
            connection = table_connection(OrgItem)
            response = connection.query(
                SEATED,
                index_name="seated_orgs",
                limit=limit,
                exclusive_start_key=start_key,
            )
        last = response.get("LastEvaluatedKey")
        next_position = (
            {name: last[name]["S"] for name in _SEATED_KEYS} if last else None
        )
        return SeatedPage(
            items=[
                SeatedSubscription(
                    org_id=raw["pk"]["S"].removeprefix("ORG#"),
                    subscription_id=raw["sub_id"]["S"],
                    member_count=int(raw.get("seats_used", {}).get("N", "0")),
                )
                for raw in response.get("Items", [])
                if "sub_id" in raw
            ],
            next_position=next_position,
        )
