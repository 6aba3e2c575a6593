"""``UserRepository`` on DynamoDB."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pynamodb.exceptions import (
    DoesNotExist,
    PutError,
    TransactWriteError,
    UpdateError,
)
from pynamodb.transactions import TransactWrite

from core.adapters.dynamodb import shards
from core.adapters.dynamodb.billing_attributes import read_billing, write_billing
from core.adapters.dynamodb.errors import CONDITION_FAILED, storage_errors
from core.adapters.dynamodb.models import (
    UniqueMarker,
    UserItem,
    customer_marker_key,
    email_marker_key,
    table_connection,
    user_key,
    username_marker_key,
)
from core.application.errors import (
    ConcurrentUpdate,
    EmailTaken,
    InvalidCursor,
    UsernameTaken,
)
from core.application.ports import (
    Position,
    SortOrder,
    UserPage,
    UserSort,
    UserSummary,
    UserSummaryPage,
)
from core.domain.user import Email, Role, User, Username

CONDITIONAL_FAILED = "ConditionalCheckFailed"
TRANSACTION_CONFLICT = "TransactionConflict"
# pynamodb's attribute serializers are untyped.


def to_domain(item: UserItem) -> User:
    return User(
        id=item.id,
        username=Username(item.username),
        email=Email(item.email),
        password_hash=item.password_hash,
        role=Role(item.role),
        is_active=item.is_active,
        created_at=item.created_at,
        session_epoch=int(item.session_epoch),
        version=int(item.version or 0),
        email_verified=bool(item.email_verified),
        billing=read_billing(item, item.created_at),
    )


def to_summary(item: UserItem) -> UserSummary:
    """A user as the listing indexes project it (``LISTED_ATTRIBUTES``)."""
    return UserSummary(
        id=item.id,
        username=Username(item.username),
        email=Email(item.email),
        role=Role(item.role),
        is_active=item.is_active,
        email_verified=bool(item.email_verified),
        created_at=item.created_at,
    )


def to_item(user: User) -> UserItem:
    item = UserItem(
        pk=user_key(user.id),
        id=user.id,
        username=user.username.value,
        username_lower=user.username.key,
        email=user.email.value,
        email_lower=user.email.key,
        password_hash=user.password_hash,
        role=user.role.value,
        is_active=user.is_active,
        created_at=user.created_at,
        session_epoch=user.session_epoch,
        email_verified=user.email_verified,
        list_pk=shards.partition(shards.USERS, user.id),
        # The sparse index of unverified users holds a user exactly while this is set.
        unverified_pk=(
            None
            if user.email_verified
            else shards.partition(shards.UNVERIFIED, user.id)
        ),
    )
    write_billing(item, user.billing)
    subscription = user.billing.subscription
    if subscription is not None:
        # The reconciliation's sparse index holds a user exactly while this is set.
        item.billing_pk = (
            None
            if subscription.is_terminal
            else shards.partition(shards.SUBSCRIBED, user.id)
        )
    # pynamodb's VersionAttribute: unset means "must not exist yet", and a set one
    # makes the write conditional on the stored version still being this one.
    if user.version:
        item.version = user.version
    return item


class DynamoUserRepository:
    """Users and their uniqueness markers in one table (see ``models``)."""

    def add(self, user: User) -> User:
        item = to_item(user)
        with storage_errors():
            try:
                with TransactWrite(
                    connection=table_connection(UserItem).connection
                ) as transaction:
                    # The order of these writes is read back from the
                    # cancellation reasons below.
                    transaction.save(
                        UniqueMarker(
                            pk=username_marker_key(user.username.key), user_id=user.id
                        ),
                        condition=UniqueMarker.pk.does_not_exist(),
                    )
                    transaction.save(
                        UniqueMarker(
                            pk=email_marker_key(user.email.key), user_id=user.id
                        ),
                        condition=UniqueMarker.pk.does_not_exist(),
                    )
                    transaction.save(item)
            except TransactWriteError as exc:
                reasons = exc.cancellation_reasons or []
                codes = [reason.code if reason else None for reason in reasons]
                if codes[:1] == [CONDITIONAL_FAILED]:
                    raise UsernameTaken() from None
                if codes[1:2] == [CONDITIONAL_FAILED]:
                    raise EmailTaken() from None
                if TRANSACTION_CONFLICT in codes:
                    # DynamoDB refuses a transaction that meets another one in
                    # flight on the same marker: a lost race, not an outage.
                    raise ConcurrentUpdate() from None
                raise
        return replace(user, version=int(item.version))

    def get(self, user_id: str) -> User | None:
        with storage_errors():
            try:
                return to_domain(UserItem.get(user_key(user_id), consistent_read=True))
            except DoesNotExist:
                return None

    def get_by_username(self, username_key: str) -> User | None:
        with storage_errors():
            try:
                marker = UniqueMarker.get(
                    username_marker_key(username_key), consistent_read=True
                )
            except DoesNotExist:
                return None
        return self.get(marker.user_id)

    def get_by_email(self, email_key: str) -> User | None:
        with storage_errors():
            try:
                marker = UniqueMarker.get(
                    email_marker_key(email_key), consistent_read=True
                )
            except DoesNotExist:
                return None
        return self.get(marker.user_id)

    def remove(self, user: User) -> None:
        item = to_item(user)
        with storage_errors():
            try:
                with TransactWrite(
                    connection=table_connection(UserItem).connection
                ) as transaction:
                    # The user only if unchanged since read (its version) and never
                    # billed: a user with a Stripe customer or a subscription is
                    # someone who pays (or paid), and a race that attached one
                    # after the read cannot slip through. Its markers only if they
                    # still point at it.
                    transaction.delete(
                        item,
                        condition=UserItem.stripe_customer_id.does_not_exist()
                        & UserItem.sub_id.does_not_exist(),
                    )
                    keys = [
                        username_marker_key(user.username.key),
                        email_marker_key(user.email.key),
                    ]
                    if user.billing.customer_id:
                        keys.append(customer_marker_key(user.billing.customer_id))
                    for key in keys:
                        transaction.delete(
                            UniqueMarker(pk=key),
                            condition=UniqueMarker.user_id == user.id,
                        )
            except TransactWriteError as exc:
                reasons = exc.cancellation_reasons or []
                if any(r is not None and r.code == CONDITIONAL_FAILED for r in reasons):
                    raise ConcurrentUpdate() from None
                raise

    def list_unverified(
        self, created_before: datetime, limit: int, start: Position | None
    ) -> UserPage:
        # The sparse index (never a Scan), oldest first. It holds keys only: the
        # users, to be removed on their version, are read whole by key.
        page = merged_page(
            UserItem.unverified,
            shards.UNVERIFIED,
            "created_at",
            limit,
            start,
            range_key_condition=UserItem.created_at < created_before,
        )
        return UserPage(whole_users(page.items), page.next_position)

    def save(self, user: User) -> User:
        item = to_item(user)
        with storage_errors():
            try:
                item.save()
            except (PutError, UpdateError) as exc:
                if exc.cause_response_code == CONDITION_FAILED:
                    raise ConcurrentUpdate() from None
                raise
        return replace(user, version=int(item.version))

    def list_page(
        self,
        sort: UserSort,
        order: SortOrder,
        limit: int,
        start: Position | None,
    ) -> UserSummaryPage:
        index: Any = (
            UserItem.by_username
            if sort is UserSort.USERNAME
            else UserItem.by_created_at
        )
        range_name = "username_lower" if sort is UserSort.USERNAME else "created_at"
        page = merged_page(
            index,
            shards.USERS,
            range_name,
            limit,
            start,
            descending=order is SortOrder.DESC,
        )
        # The listing indexes carry what a summary shows: no read by key.
        return UserSummaryPage([to_summary(i) for i in page.items], page.next_position)


_PARTITION_ATTRIBUTE = {
    shards.USERS: "list_pk",
    shards.UNVERIFIED: "unverified_pk",
    shards.SUBSCRIBED: "billing_pk",
}
_SHARDS = "shards"


@dataclass(frozen=True, slots=True)
class IndexPage:
    """Items as an index projects them (only its keys, for a ``KeysOnly`` one),
    and the position of the next page."""

    items: list[UserItem]
    next_position: Position | None


def whole_users(items: Sequence[UserItem]) -> list[User]:
    """The users ``items`` (index items: their keys at least) name, read whole by
    key (``BatchGetItem``, 100 keys a call, consistently), in ``items``' order. A
    user deleted since the index was read is left out."""
    if not items:
        return []
    with storage_errors():
        found = {
            item.pk: item
            for item in UserItem.batch_get(
                [item.pk for item in items], consistent_read=True
            )
        }
    return [to_domain(found[item.pk]) for item in items if item.pk in found]


def merged_page(
    index: Any,
    base: str,
    range_name: str,
    limit: int,
    start: Position | None,
    *,
    descending: bool = False,
    range_key_condition: Any = None,
) -> IndexPage:
    """One page of users from the index partitions under ``base`` (one Query per
    shard still to read, ``limit + 1`` items each), merged in the index's order,
    with the position of the next page.

    The position holds, per shard, the last item this listing took from it (or
    that the shard is done); the next page Queries each shard from there, so every
    user is listed exactly once, in order, whatever the shards hold. Equal range
    values in different shards are ordered by item key. One item more than asked
    per shard tells, in the same Queries, whether a next page exists, so the last
    page never carries a cursor to an empty one.
    """
    count = shards.count()
    after = _positions(start, count, range_name)
    partition_name = _PARTITION_ATTRIBUTE[base]
    fetched: dict[int, deque[UserItem]] = {}
    with storage_errors():
        for shard, partition in enumerate(shards.partitions(base, count)):
            state = after.get(shard)
            if state == "done":
                continue
            start_key = None
            if isinstance(state, tuple):
                pk, value = state
                start_key = {
                    "pk": {"S": pk},
                    partition_name: {"S": partition},
                    range_name: {"S": value},
                }
            fetched[shard] = deque(
                index.query(
                    partition,
                    limit=limit + 1,
                    page_size=limit + 1,
                    last_evaluated_key=start_key,
                    scan_index_forward=not descending,
                    range_key_condition=range_key_condition,
                )
            )
    page: list[UserItem] = []
    taken: dict[int, UserItem] = {}
    pick = max if descending else min
    while len(page) < limit:
        heads = [shard for shard, items in fetched.items() if items]
        if not heads:
            break
        shard = pick(heads, key=lambda n: _order_key(fetched[n][0], range_name))
        taken[shard] = fetched[shard].popleft()
        page.append(taken[shard])
    next_position = None
    if any(fetched.values()):
        next_position = {_SHARDS: str(count)}
        for shard in range(count):
            state = after.get(shard)
            if shard in fetched and not fetched[shard]:
                # It had no more than a page, and all of it was taken.
                state = "done"
            elif shard in taken:
                state = (taken[shard].pk, _serialized(taken[shard], range_name))
            if state == "done":
                next_position[str(shard)] = "done"
            elif isinstance(state, tuple):
                next_position[f"{shard}.pk"], next_position[f"{shard}.at"] = state
    return IndexPage(items=page, next_position=next_position)


def _serialized(item: UserItem, range_name: str) -> str:
    return str(getattr(UserItem, range_name).serialize(getattr(item, range_name)))


def _order_key(item: UserItem, range_name: str) -> tuple[bytes, str]:
    # DynamoDB orders string sort keys by their UTF-8 bytes.
    return (_serialized(item, range_name).encode(), item.pk)


def _positions(
    start: Position | None, count: int, range_name: str
) -> dict[int, tuple[str, str] | str]:
    """Per shard, where the listing stands: after an item (its key and range value),
    or ``"done"``; an absent shard has not been read yet. The position is signed by
    us, but one minted for another index, order or shard count must never reach
    DynamoDB: its shape is checked first."""
    if start is None:
        return {}
    allowed = {_SHARDS}
    for shard in range(count):
        allowed |= {str(shard), f"{shard}.pk", f"{shard}.at"}
    if start.get(_SHARDS) != str(count) or not set(start) <= allowed:
        raise InvalidCursor()
    found: dict[int, tuple[str, str] | str] = {}
    for shard in range(count):
        done = start.get(str(shard))
        pk, at = start.get(f"{shard}.pk"), start.get(f"{shard}.at")
        if done is not None:
            if done != "done" or pk is not None or at is not None:
                raise InvalidCursor()
            found[shard] = "done"
        elif pk is not None or at is not None:
            if not isinstance(pk, str) or not isinstance(at, str):
                raise InvalidCursor()
            if not pk.startswith("USER#"):
                raise InvalidCursor()
            found[shard] = (pk, at)
    return found
