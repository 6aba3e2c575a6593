"""``DynamoUserRepository``'s email work against moto: finding a user by email,
the sparse index of unverified users, and removing a user with their markers."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from core.adapters.dynamodb import shards
from core.adapters.dynamodb.models import (
    UserItem,
    email_marker_key,
    user_key,
    username_marker_key,
)
from core.adapters.dynamodb.users import DynamoUserRepository
from core.application.errors import ConcurrentUpdate, InvalidCursor
from core.domain.user import Role, User
from tests.integration.conftest import EPOCH, MakeUser
from tests.integration.test_dynamo_users import stored_item

LATER = EPOCH + timedelta(days=365)


def index_members() -> set[str]:
    """The ids in the unverified index, read past the adapter (it holds keys
    only: the id is in the table key)."""
    return {
        item.pk.removeprefix("USER#")
        for partition in shards.partitions(shards.UNVERIFIED)
        for item in UserItem.unverified.query(partition)
    }


# -- get_by_email ----------------------------------------------------------------------


def test_a_user_is_found_by_email_in_any_case(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    user = make_user(email="Alice.Smith@Example.com")
    users.add(user)

    found = users.get_by_email("alice.smith@example.com")

    assert found is not None
    assert found.id == user.id
    assert found.email.value == "Alice.Smith@Example.com"
    assert users.get_by_email("nobody@example.com") is None


# -- the unverified index --------------------------------------------------------------


def test_a_new_user_is_in_the_unverified_index_until_verified(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    stored = users.add(make_user())
    assert index_members() == {stored.id}

    users.save(stored.with_email_verified())

    assert index_members() == set()
    item = stored_item(user_key(stored.id))
    assert item is not None
    assert "unverified_pk" not in item


def test_list_unverified_pages_oldest_first_through_the_index_then_reads_users_whole(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    made = [users.add(make_user()) for _ in range(5)]
    users.save(made[2].with_email_verified())

    first = users.list_unverified(LATER, 2, None)
    assert first.next_position is not None
    second = users.list_unverified(LATER, 2, first.next_position)

    assert [u.id for u in first.items] == [made[0].id, made[1].id]
    assert [u.id for u in second.items] == [made[3].id, made[4].id]
    assert second.next_position is None
    # Whole users, read by key after the (keys-only) index.
    assert first.items[0] == made[0]


def test_list_unverified_holds_only_users_created_before_the_cutoff(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    old = users.add(make_user(created_at=EPOCH))
    users.add(make_user(created_at=EPOCH + timedelta(days=2)))

    page = users.list_unverified(EPOCH + timedelta(days=1), 10, None)

    assert [u.id for u in page.items] == [old.id]
    assert page.next_position is None


def test_list_unverified_refuses_a_position_of_another_shape(
    users: DynamoUserRepository,
) -> None:
    with pytest.raises(InvalidCursor):
        users.list_unverified(LATER, 2, {"pk": "USER#x", "username_lower": "x"})
    with pytest.raises(InvalidCursor):
        users.list_unverified(LATER, 2, {"pk": "EMAIL#x", "created_at": "x"})


# -- remove ----------------------------------------------------------------------------


def test_remove_deletes_the_user_and_both_markers_so_the_names_are_free_again(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    user = make_user("Alice.Smith", "Alice@Example.com")
    stored = users.add(user)

    users.remove(stored)

    for key in (
        user_key(user.id),
        username_marker_key("alice.smith"),
        email_marker_key("alice@example.com"),
    ):
        assert stored_item(key) is None, key
    assert index_members() == set()
    users.add(make_user("alice.smith", "alice@example.com"))


def test_remove_with_a_stale_version_is_refused_and_deletes_nothing(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    stored = users.add(make_user())
    users.save(stored.with_email_verified())

    with pytest.raises(ConcurrentUpdate):
        users.remove(stored)

    assert users.get(stored.id) is not None
    assert stored_item(username_marker_key(stored.username.key)) is not None
    assert stored_item(email_marker_key(stored.email.key)) is not None


def test_remove_leaves_markers_that_point_at_someone_else(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    stored = users.add(make_user())
    impostor: User = replace(stored, id="someone-else", version=1)

    with pytest.raises(ConcurrentUpdate):
        users.remove(impostor)

    assert users.get(stored.id) == stored


def test_admins_are_indexed_too_the_purge_decides_who_goes(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    admin = users.add(make_user(role=Role.ADMIN))

    assert [u.id for u in users.list_unverified(LATER, 10, None).items] == [admin.id]
