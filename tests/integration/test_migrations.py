"""Data migrations: applied in order, once, resumable, one run at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.adapters.dynamodb import migrations, shards
from core.adapters.dynamodb.migrations import (
    LEASE,
    Lease,
    Migration,
    MigrationLocked,
    Run,
)
from core.adapters.dynamodb.migrations import m0001_backfill_email_verified as m0001
from core.adapters.dynamodb.models import (
    LEGACY_USER_PARTITION,
    MigrationRecord,
    UserItem,
    dynamodb_client,
)
from core.adapters.dynamodb.users import DynamoUserRepository
from tests.integration.conftest import MakeUser


def now() -> datetime:
    return datetime.now(UTC)


def first_only() -> list[Migration]:
    """The plan of the tests about migration 0001 and the framework: later
    migrations have tests of their own."""
    return [m for m in migrations.discover() if m.id == m0001.ID]


def store_legacy_users(
    users: DynamoUserRepository, make_user: MakeUser, n: int
) -> None:
    """Users as an older release stored them: without ``email_verified``, in the
    listing's one partition of before it was sharded."""
    for _ in range(n):
        users.add(make_user())
    client = dynamodb_client()
    for item in every_user():
        client.update_item(
            TableName=UserItem.Meta.table_name,
            Key={"pk": {"S": item.pk}},
            UpdateExpression="REMOVE email_verified SET list_pk = :legacy",
            ExpressionAttributeValues={":legacy": {"S": LEGACY_USER_PARTITION}},
        )


def every_user() -> list[UserItem]:
    partitions = [LEGACY_USER_PARTITION, *shards.partitions(shards.USERS)]
    return [
        item
        for partition in partitions
        for item in UserItem.by_created_at.query(partition)
    ]


def lacking() -> int:
    return sum(
        1
        for item in every_user()
        if item.attribute_values.get("email_verified") is None
    )


def test_the_migrations_are_discovered_in_id_order() -> None:
    ids = [m.id for m in migrations.discover()]

    assert ids == sorted(ids)
    assert ids[0] == "0001_backfill_email_verified"


def test_the_first_migration_backfills_every_user_and_a_second_run_changes_nothing(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    store_legacy_users(users, make_user, 5)
    assert lacking() == 5

    first = migrations.apply_pending(now, migrations=first_only())
    second = migrations.apply_pending(now, migrations=first_only())

    assert [(a.id, a.changed) for a in first] == [(m0001.ID, 5)]
    assert second == []
    assert lacking() == 0
    record = MigrationRecord.get(f"MIGRATION#{m0001.ID}")
    assert record.applied_at is not None
    assert record.checkpoint is None


def test_a_run_over_more_users_than_a_page_visits_each_once(
    users: DynamoUserRepository,
    make_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(migrations, "USER_PAGE", 2)
    store_legacy_users(users, make_user, 7)

    (applied,) = migrations.apply_pending(now, migrations=first_only())

    assert applied.changed == 7
    assert lacking() == 0


def test_an_interrupted_run_resumes_from_its_checkpoint(
    users: DynamoUserRepository,
    make_user: MakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(migrations, "USER_PAGE", 2)
    store_legacy_users(users, make_user, 6)
    pages = {"seen": 0}
    real_save = Run.save_checkpoint

    def crash_after_two_pages(run: Run, checkpoint: Any) -> None:
        real_save(run, checkpoint)
        pages["seen"] += 1
        if pages["seen"] == 2:
            raise KeyboardInterrupt  # the operator pressed Ctrl-C

    monkeypatch.setattr(Run, "save_checkpoint", crash_after_two_pages)
    with pytest.raises(KeyboardInterrupt):
        migrations.apply_pending(now, migrations=first_only())
    assert lacking() == 2
    record = MigrationRecord.get(f"MIGRATION#{m0001.ID}")
    assert record.applied_at is None
    assert record.checkpoint is not None

    monkeypatch.setattr(Run, "save_checkpoint", real_save)
    (applied,) = migrations.apply_pending(now, migrations=first_only())

    assert applied.resumed
    assert applied.changed == 6
    assert lacking() == 0


def test_a_second_run_is_refused_while_the_first_holds_the_lock(tables: None) -> None:
    holder = Lease(now)
    holder.acquire()

    with pytest.raises(MigrationLocked):
        migrations.apply_pending(now)

    holder.release()
    migrations.apply_pending(now)


def test_a_lock_left_by_a_killed_run_is_taken_over_after_its_lease(
    tables: None,
) -> None:
    Lease(lambda: now() - LEASE - timedelta(seconds=1)).acquire()  # never released

    assert [a.id for a in migrations.apply_pending(now)] == [
        m.id for m in migrations.discover()
    ]


def test_a_failing_migration_stops_the_run_and_leaves_later_ones_pending(
    tables: None,
) -> None:
    def broken(run: Run) -> None:
        raise RuntimeError("boom")

    ran: list[str] = []

    def later(run: Run) -> None:
        ran.append("later")

    plan = [
        Migration("9001_broken", "fails", broken),
        Migration("9002_later", "after it", later),
    ]
    with pytest.raises(RuntimeError):
        migrations.apply_pending(now, migrations=plan)

    assert ran == []
    # The lock was released: a fixed plan runs at once.
    plan[0] = Migration("9001_broken", "fixed", later)
    assert [a.id for a in migrations.apply_pending(now, migrations=plan)] == [
        "9001_broken",
        "9002_later",
    ]
