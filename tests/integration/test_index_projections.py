"""What the secondary indexes hand to whoever may Query them, against moto.

A function granted Query on an index (``users:list``, ``users:unverified``, ...)
reads whatever the index projects. moto applies a Query's projection as DynamoDB
does (``KEYS_ONLY`` and ``INCLUDE`` drop the other attributes: checked here by an
item that carries every attribute a user can have), so these tests read each index
raw, past the adapters, and look at what comes back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from inspect import getmembers
from typing import Any

import pytest
from pynamodb.indexes import Index
from pynamodb.models import Model

from core.adapters.dynamodb import shards
from core.adapters.dynamodb.models import (
    TABLE_MODELS,
    SessionItem,
    UserItem,
    dynamodb_client,
)
from core.adapters.dynamodb.one_time_tokens import DynamoOneTimeTokens
from core.adapters.dynamodb.sessions import DynamoSessionStore
from core.adapters.dynamodb.users import DynamoUserRepository
from core.application.ports import SortOrder, UserSort
from tests.conftest import DynamoCalls
from tests.integration.conftest import EPOCH, MakeSession, MakeUser
from tests.integration.test_dynamo_billing import subscribed, subscription

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LATER = EPOCH + timedelta(days=365)
# Never in any index: what a password is checked against.
SECRET_ATTRIBUTES = {"password_hash"}
# Items of the sessions table that no index may hold: link tokens (their id is the
# token's hash) and rate-limit counters.
UNLISTED_PREFIXES = ("TOKEN#", "RATE#")


def _indexes(model: type[Model]) -> list[Index[Any]]:
    return [i for _, i in getmembers(model, lambda o: isinstance(o, Index))]


def _partitions(index: Index[Any]) -> list[str]:
    """Every partition the index can hold, read from its hash key's name."""
    hash_key = next(
        a for _, a in getmembers(type(index)) if getattr(a, "is_hash_key", False)
    )
    base = {
        "list_pk": shards.USERS,
        "unverified_pk": shards.UNVERIFIED,
        "billing_pk": shards.SUBSCRIBED,
    }.get(hash_key.attr_name)
    if base is None:
        return []
    return shards.partitions(base)


def _raw_query(
    model: type[Model], index: Index[Any], partition: str
) -> list[dict[str, Any]]:
    hash_key = next(
        a for _, a in getmembers(type(index)) if getattr(a, "is_hash_key", False)
    )
    response = dynamodb_client().query(
        TableName=model.Meta.table_name,
        IndexName=index.Meta.index_name,
        KeyConditionExpression="#k = :v",
        ExpressionAttributeNames={"#k": hash_key.attr_name},
        ExpressionAttributeValues={":v": {"S": partition}},
    )
    items: list[dict[str, Any]] = response["Items"]
    return items


@pytest.fixture
def everyone(
    users: DynamoUserRepository,
    sessions: DynamoSessionStore,
    make_user: MakeUser,
    make_session: MakeSession,
) -> str:
    """Users in every index (unverified, subscribed, verified), a session and a
    link token of one; returns that user's id."""
    plain = users.add(make_user())
    users.add(make_user())
    payer = users.add(make_user())
    users.save(subscribed(payer, subscription()).with_email_verified())
    sessions.add(make_session(user_id=plain.id))
    DynamoOneTimeTokens().issue("verify", plain.id, NOW, timedelta(hours=1))
    return plain.id


def test_no_index_hands_out_a_password_hash_or_a_token(everyone: str) -> None:
    read = 0
    for model in TABLE_MODELS:
        for index in _indexes(model):
            partitions = _partitions(index) or [everyone]
            for partition in partitions:
                for item in _raw_query(model, index, partition):
                    read += 1
                    assert not SECRET_ATTRIBUTES & set(item), (
                        index.Meta.index_name,
                        sorted(item),
                    )
                    key = next(iter(item.get("id", item.get("pk", {})).values()))
                    assert not key.startswith(UNLISTED_PREFIXES), key
    # Every index was read and held something: a test that reads nothing proves
    # nothing.
    assert read >= 6


def test_each_index_hands_out_its_keys_and_declared_attributes_only(
    everyone: str,
) -> None:
    for model in (UserItem, SessionItem):
        table_keys = {
            a.attr_name for a in model.get_attributes().values() if a.is_hash_key
        }
        for index in _indexes(model):
            keys = {
                a.attr_name
                for _, a in getmembers(type(index))
                if getattr(a, "is_hash_key", False) or getattr(a, "is_range_key", False)
            }
            allowed = (
                table_keys | keys | set(index.Meta.projection.non_key_attributes or ())
            )
            seen = [
                item
                for partition in _partitions(index) or [everyone]
                for item in _raw_query(model, index, partition)
            ]
            assert seen, index.Meta.index_name
            for item in seen:
                assert set(item) <= allowed, (index.Meta.index_name, sorted(item))


def test_the_listing_indexes_carry_what_a_listing_shows_and_nothing_secret() -> None:
    for index in _indexes(UserItem):
        projection = index.Meta.projection
        assert projection.projection_type in ("KEYS_ONLY", "INCLUDE")
        assert not SECRET_ATTRIBUTES & set(projection.non_key_attributes or ())
    (sessions_index,) = _indexes(SessionItem)
    assert sessions_index.Meta.projection.projection_type == "KEYS_ONLY"


# -- what a page costs -------------------------------------------------------------


def test_a_listing_page_is_one_query_per_shard_and_no_read_by_key(
    users: DynamoUserRepository, make_user: MakeUser, dynamo_calls: DynamoCalls
) -> None:
    for _ in range(6):
        users.add(make_user())
    dynamo_calls.reset()

    page = users.list_page(UserSort.CREATED_AT, SortOrder.DESC, 100, None)

    assert len(page.items) == 6
    # The index carries what the page shows: nothing is read by key.
    assert dict(dynamo_calls.counts) == {"Query": shards.count()}


def test_a_jobs_page_is_one_query_per_shard_then_one_batch_read_of_whole_users(
    users: DynamoUserRepository, make_user: MakeUser, dynamo_calls: DynamoCalls
) -> None:
    made = [users.add(make_user(created_at=EPOCH)) for _ in range(6)]
    dynamo_calls.reset()

    page = users.list_unverified(LATER, 100, None)

    # Whole users (the purge removes them on their version), in one BatchGetItem.
    assert sorted(page.items, key=lambda u: u.id) == sorted(made, key=lambda u: u.id)
    assert dict(dynamo_calls.counts) == {"Query": shards.count(), "BatchGetItem": 1}


def test_bound_to_the_previous_indexes_the_listings_query_them(
    tables: None, make_user: MakeUser
) -> None:
    """Mid-rollout (``STRATA_PREVIOUS_USER_INDEXES``) the code Queries the indexes
    by their old names: here a users table that has only those."""
    from core.adapters.dynamodb.models import PREVIOUS_INDEX_NAMES, bind_tables
    from functions.runtime.settings import get_settings

    settings = get_settings()
    names = (settings.users_table, settings.sessions_table, settings.region)
    UserItem.delete_table()
    try:
        bind_tables(*names, tasks_table=settings.tasks_table, previous_indexes=True)
        UserItem.create_table(wait=True)
        described = dynamodb_client().describe_table(TableName=settings.users_table)
        assert {
            i["IndexName"] for i in described["Table"]["GlobalSecondaryIndexes"]
        } == set(PREVIOUS_INDEX_NAMES.values())
        users = DynamoUserRepository()
        made = [users.add(make_user(created_at=EPOCH)) for _ in range(3)]

        listed = users.list_page(UserSort.USERNAME, SortOrder.ASC, 10, None)
        unverified = users.list_unverified(LATER, 10, None)

        assert sorted(u.id for u in listed.items) == sorted(u.id for u in made)
        assert sorted(u.id for u in unverified.items) == sorted(u.id for u in made)
    finally:
        bind_tables(*names, tasks_table=settings.tasks_table)
