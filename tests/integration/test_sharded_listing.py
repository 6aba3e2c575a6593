"""The users' listing indexes are write-sharded (``core.adapters.dynamodb.shards``):
a listing merges one Query per shard, and its cursor carries where each shard
stands. Against moto, with the stage's default shard count."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.adapters.dynamodb import shards
from core.adapters.dynamodb.migrations import m0003_shard_user_indexes as m0003
from core.adapters.dynamodb.models import (
    LEGACY_SUBSCRIBED_PARTITION,
    LEGACY_UNVERIFIED_PARTITION,
    LEGACY_USER_PARTITION,
    UserItem,
    dynamodb_client,
    user_key,
)
from core.adapters.dynamodb.users import DynamoUserRepository
from core.application.errors import InvalidCursor
from core.application.ports import Position, SortOrder, UserSort
from core.domain.user import User
from tests.integration.conftest import EPOCH, MakeUser

USERS = 24


@pytest.fixture
def stored(users: DynamoUserRepository, make_user: MakeUser) -> list[User]:
    """``USERS`` users over every shard; every third shares its creation time with
    the one before, so that the created-at order has ties across shards."""
    made = []
    for n in range(USERS):
        created = EPOCH + timedelta(seconds=n - (1 if n % 3 == 2 else 0))
        made.append(users.add(make_user(f"member{n:03d}", created_at=created)))
    return made


def page_through(
    users: DynamoUserRepository, sort: UserSort, order: SortOrder, limit: int
) -> list[list[User]]:
    pages: list[list[User]] = []
    start: Position | None = None
    while True:
        page = users.list_page(sort, order, limit, start)
        pages.append(page.items)
        if page.next_position is None:
            return pages
        start = page.next_position


def test_the_users_are_spread_over_every_shard(stored: list[User]) -> None:
    used = {shards.shard_of(user.id) for user in stored}

    assert shards.count() > 1
    assert used == set(range(shards.count()))


@pytest.mark.parametrize("limit", [1, 7, USERS])
@pytest.mark.parametrize("order", [SortOrder.ASC, SortOrder.DESC])
@pytest.mark.parametrize("sort", [UserSort.USERNAME, UserSort.CREATED_AT])
def test_a_sharded_listing_pages_every_user_exactly_once_in_order(
    users: DynamoUserRepository,
    stored: list[User],
    sort: UserSort,
    order: SortOrder,
    limit: int,
) -> None:
    pages = page_through(users, sort, order, limit)
    listed = [user for page in pages for user in page]

    assert sorted(u.id for u in listed) == sorted(u.id for u in stored)
    assert all(len(page) == limit for page in pages[:-1])
    assert pages[-1], "no cursor may lead to an empty page"
    values: list[Any] = [
        u.username.key if sort is UserSort.USERNAME else u.created_at for u in listed
    ]
    assert values == sorted(values, reverse=order is SortOrder.DESC)


def test_a_cursor_minted_for_another_shard_count_is_refused(
    users: DynamoUserRepository, stored: list[User], monkeypatch: pytest.MonkeyPatch
) -> None:
    page = users.list_page(UserSort.USERNAME, SortOrder.ASC, 5, None)
    assert page.next_position is not None
    monkeypatch.setattr(shards, "_configured", shards.count() + 1)

    with pytest.raises(InvalidCursor):
        users.list_page(UserSort.USERNAME, SortOrder.ASC, 5, page.next_position)


@pytest.mark.parametrize(
    "position",
    [
        {"shards": "4", "0.pk": "SESSION#x", "0.at": "a"},
        {"shards": "4", "9.pk": "USER#x", "9.at": "a"},
        {"shards": "4", "0": "later"},
        {"shards": "4", "0": "done", "0.pk": "USER#x"},
        {"shards": "4", "0.pk": "USER#x"},
        {"shards": "4", "extra": "x"},
        {"0.pk": "USER#x", "0.at": "a"},
    ],
)
def test_a_position_of_the_wrong_shape_never_reaches_dynamodb(
    users: DynamoUserRepository, position: Position
) -> None:
    assert shards.count() == 4

    with pytest.raises(InvalidCursor):
        users.list_page(UserSort.USERNAME, SortOrder.ASC, 5, position)


def test_the_reshard_migration_moves_users_of_the_one_old_partition(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    legacy = [users.add(make_user(f"legacy{n:03d}")) for n in range(6)]
    client = dynamodb_client()
    for user in legacy:
        client.update_item(
            TableName=UserItem.Meta.table_name,
            Key={"pk": {"S": user_key(user.id)}},
            UpdateExpression="SET list_pk = :u, unverified_pk = :v, billing_pk = :s",
            ExpressionAttributeValues={
                ":u": {"S": LEGACY_USER_PARTITION},
                ":v": {"S": LEGACY_UNVERIFIED_PARTITION},
                ":s": {"S": LEGACY_SUBSCRIBED_PARTITION},
            },
        )
    assert [
        p.items for p in [users.list_page(UserSort.USERNAME, SortOrder.ASC, 10, None)]
    ] == [[]]

    moved = [m0003._move_to_shard(UserItem.get(user_key(u.id))) for u in legacy]
    again = [m0003._move_to_shard(UserItem.get(user_key(u.id))) for u in legacy]

    assert moved == [True] * 6
    assert again == [False] * 6
    listed = users.list_page(UserSort.USERNAME, SortOrder.ASC, 10, None).items
    assert [u.id for u in listed] == [u.id for u in legacy]
    for user in legacy:
        item = UserItem.get(user_key(user.id))
        assert item.list_pk == shards.partition(shards.USERS, user.id)
        assert item.unverified_pk == shards.partition(shards.UNVERIFIED, user.id)
        assert item.billing_pk == shards.partition(shards.SUBSCRIBED, user.id)
