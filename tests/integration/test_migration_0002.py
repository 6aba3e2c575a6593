"""Migration 0002: users with an unverified email stored before the unverified
index existed are put in it; verified ones are not; reruns change nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.adapters.dynamodb import migrations, shards
from core.adapters.dynamodb.migrations import Migration, Run
from core.adapters.dynamodb.migrations import m0002_index_unverified_users as m0002
from core.adapters.dynamodb.models import (
    LEGACY_USER_PARTITION,
    UserItem,
    dynamodb_client,
)
from core.adapters.dynamodb.users import DynamoUserRepository
from core.domain.user import User
from tests.integration.conftest import MakeUser


def now() -> datetime:
    return datetime.now(UTC)


def second_only() -> list[Migration]:
    return [m for m in migrations.discover() if m.id == m0002.ID]


def store_legacy_users(
    users: DynamoUserRepository, make_user: MakeUser, n: int, verified: int = 0
) -> list[User]:
    """``n`` users as the release before the index stored them (no
    ``unverified_pk``, and in the listing's one partition of before it was
    sharded); the first ``verified`` of them with a verified email."""
    stored = [users.add(make_user()) for _ in range(n)]
    for i in range(verified):
        stored[i] = users.save(stored[i].with_email_verified())
    client = dynamodb_client()
    for user in stored:
        client.update_item(
            TableName=UserItem.Meta.table_name,
            Key={"pk": {"S": f"USER#{user.id}"}},
            UpdateExpression="REMOVE unverified_pk SET list_pk = :legacy",
            ExpressionAttributeValues={":legacy": {"S": LEGACY_USER_PARTITION}},
        )
    assert indexed() == set()
    return stored


def indexed() -> set[str]:
    """The ids in the unverified index (keys only: the id is in the table key)."""
    return {
        item.pk.removeprefix("USER#")
        for partition in shards.partitions(shards.UNVERIFIED)
        for item in UserItem.unverified.query(partition)
    }


def test_the_unverified_users_are_indexed_the_verified_not_and_a_rerun_changes_nothing(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    stored = store_legacy_users(users, make_user, 5, verified=2)

    first = migrations.apply_pending(now, migrations=second_only())

    assert [(a.id, a.changed) for a in first] == [(m0002.ID, 3)]
    assert indexed() == {u.id for u in stored[2:]}
    assert migrations.apply_pending(now, migrations=second_only()) == []


def test_the_migrated_users_are_the_ones_the_purge_lists(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    stored = store_legacy_users(users, make_user, 3, verified=1)

    migrations.apply_pending(now, migrations=second_only())

    page = users.list_unverified(now(), 10, None)
    assert [u.id for u in page.items] == [u.id for u in stored[1:]]


def test_a_forced_rerun_finds_every_user_indexed_already(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    store_legacy_users(users, make_user, 4)
    migrations.apply_pending(now, migrations=second_only())
    plan = [Migration("9002_rerun_of_0002", "again", m0002.forward)]

    (again,) = migrations.apply_pending(now, migrations=plan)

    assert again.changed == 0
    assert len(indexed()) == 4


def test_an_interrupted_run_resumes_from_its_checkpoint_and_visits_each_user_once(
    users: DynamoUserRepository,
    make_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(migrations, "USER_PAGE", 2)
    store_legacy_users(users, make_user, 7)
    pages = {"seen": 0}
    real_save = Run.save_checkpoint

    def crash_after_two_pages(run: Run, checkpoint: Any) -> None:
        real_save(run, checkpoint)
        pages["seen"] += 1
        if pages["seen"] == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(Run, "save_checkpoint", crash_after_two_pages)
    with pytest.raises(KeyboardInterrupt):
        migrations.apply_pending(now, migrations=second_only())
    assert len(indexed()) == 4

    monkeypatch.setattr(Run, "save_checkpoint", real_save)
    (applied,) = migrations.apply_pending(now, migrations=second_only())

    assert applied.resumed
    assert applied.changed == 7
    assert len(indexed()) == 7


def test_a_user_removed_meanwhile_is_not_brought_back(
    users: DynamoUserRepository,
    make_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doomed, kept = store_legacy_users(users, make_user, 2)
    real_query = UserItem.by_created_at.query

    def query_then_remove(*args: Any, **kwargs: Any) -> Any:
        results = list(real_query(*args, **kwargs))
        found = users.get(doomed.id)
        if found is not None:
            users.remove(found)

        class Page(list[Any]):
            last_evaluated_key = None

        return Page(results)

    monkeypatch.setattr(UserItem.by_created_at, "query", query_then_remove)
    (applied,) = migrations.apply_pending(now, migrations=second_only())

    assert applied.changed == 1
    assert users.get(doomed.id) is None
    assert indexed() == {kept.id}
