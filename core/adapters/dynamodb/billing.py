"""``BillingStore`` on DynamoDB: customer claims in the users table, processed
webhook events in the tasks table, and the sparse index of live subscriptions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from core.adapters.dynamodb import shards
from core.adapters.dynamodb.errors import storage_errors
from core.adapters.dynamodb.models import (
    StripeEventItem,
    UniqueMarker,
    UserItem,
    customer_marker_key,
    stripe_event_key,
    table_connection,
)
from core.adapters.dynamodb.users import (
    CONDITIONAL_FAILED,
    merged_page,
    to_item,
    whole_users,
)
from core.application.errors import ConcurrentUpdate, DuplicateEvent
from core.application.ports import Position, UserPage
from core.domain.user import User


class DynamoBillingStore:
    """See ``BillingStore``. Every write that claims something is one
    TransactWriteItems with conditions, never a read followed by a write."""

    def attach_customer(self, user: User, customer_id: str) -> User:
        updated = user.with_billing(user.billing.with_customer(customer_id))
        item = to_item(updated)
        with storage_errors():
            try:
                with TransactWrite(
                    connection=table_connection(UserItem).connection
                ) as transaction:
                    transaction.save(item)
                    # A customer can only ever be claimed by the user it was made
                    # for: a retry after a lost response finds its own claim.
                    transaction.save(
                        UniqueMarker(
                            pk=customer_marker_key(customer_id), user_id=user.id
                        ),
                        condition=(
                            UniqueMarker.pk.does_not_exist()
                            | (UniqueMarker.user_id == user.id)
                        ),
                    )
            except TransactWriteError as exc:
                if _conditions_failed(exc):
                    raise ConcurrentUpdate() from None
                raise
        return replace(updated, version=int(item.version))

    def owner_of(self, customer_id: str) -> str | None:
        with storage_errors():
            try:
                marker = UniqueMarker.get(
                    customer_marker_key(customer_id), consistent_read=True
                )
            except DoesNotExist:
                return None
        return marker.user_id

    def was_processed(self, event_id: str) -> bool:
        with storage_errors():
            try:
                StripeEventItem.get(stripe_event_key(event_id), consistent_read=True)
            except DoesNotExist:
                return False
        return True

    def record_event(
        self,
        event_id: str,
        event_type: str,
        now: datetime,
        expires_at: datetime,
        user: User | None = None,
    ) -> User | None:
        event = StripeEventItem(
            id=stripe_event_key(event_id),
            type=event_type,
            processed_at=now,
            expires_at=expires_at,
        )
        item = to_item(user) if user is not None else None
        with storage_errors():
            try:
                with TransactWrite(
                    connection=table_connection(UserItem).connection
                ) as transaction:
                    # First: its cancellation reason tells a duplicate apart.
                    transaction.save(
                        event, condition=StripeEventItem.id.does_not_exist()
                    )
                    if item is not None:
                        transaction.save(item)
            except TransactWriteError as exc:
                reasons = exc.cancellation_reasons or []
                codes = [reason.code if reason else None for reason in reasons]
                if codes[:1] == [CONDITIONAL_FAILED]:
                    raise DuplicateEvent() from None
                if CONDITIONAL_FAILED in codes:
                    raise ConcurrentUpdate() from None
                raise
        if user is None or item is None:
            return None
        return replace(user, version=int(item.version))

    def subscribed_users(self, limit: int, start: Position | None) -> UserPage:
        # The index holds keys only: the users, whose subscriptions are compared
        # with Stripe's and saved back, are read whole by key.
        page = merged_page(
            UserItem.subscribed, shards.SUBSCRIBED, "created_at", limit, start
        )
        return UserPage(whole_users(page.items), page.next_position)


def _conditions_failed(exc: TransactWriteError) -> bool:
    reasons = exc.cancellation_reasons or []
    return any(r is not None and r.code == CONDITIONAL_FAILED for r in reasons)
