"""Versioned data migrations for the DynamoDB tables.

DynamoDB has no schema, but item shapes still change between releases. Each
migration is a module ``mNNNN_<name>.py`` in this package with an ``ID``, a
``DESCRIPTION`` and a ``forward(run)`` step. They apply in order; each one's state
is an item in the users table (see ``MigrationRecord``), so ``apply_pending`` is
safe to run twice (done ones are skipped) and safe to interrupt (a step resumes
from its last checkpoint, and every step is idempotent item by item). A lease item
keeps two runs from overlapping.
"""

from __future__ import annotations

import json
import pkgutil
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any, Protocol

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, UpdateError

from core.adapters.dynamodb import shards
from core.adapters.dynamodb.errors import CONDITION_FAILED, storage_errors
from core.adapters.dynamodb.models import (
    LEGACY_USER_PARTITION,
    MigrationRecord,
    UserItem,
)

LOCK_KEY = "MIGRATION#LOCK"
LEASE = timedelta(minutes=15)
_MODULE = re.compile(r"m(\d{4})_\w+")

Checkpoint = dict[str, Any]
Progress = Callable[[str], None]


class MigrationLocked(Exception):
    """Another run holds the lease."""


class Step(Protocol):
    def __call__(self, run: Run) -> None: ...


@dataclass(frozen=True, slots=True)
class Migration:
    id: str
    description: str
    forward: Step


@dataclass(frozen=True, slots=True)
class Applied:
    id: str
    changed: int
    resumed: bool


def discover() -> list[Migration]:
    """Every migration module in this package, in id order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if _MODULE.fullmatch(info.name):
            module = import_module(f"{__name__}.{info.name}")
            found.append(Migration(module.ID, module.DESCRIPTION, module.forward))
    ids = [m.id for m in found]
    if len(set(ids)) != len(ids):
        raise RuntimeError(f"duplicate migration ids: {ids}")
    return sorted(found, key=lambda m: m.id)


class Run:
    """What a step gets: its checkpoint, a way to save one, and a change counter."""

    def __init__(
        self, migration: Migration, lock: Lease, record: MigrationRecord
    ) -> None:
        self.migration = migration
        self._lock = lock
        self._record = record
        self.changed = int(record.changed or 0)
        self.checkpoint: Checkpoint | None = (
            json.loads(record.checkpoint) if record.checkpoint else None
        )

    def count(self, changed: int = 1) -> None:
        self.changed += changed

    def save_checkpoint(self, checkpoint: Checkpoint | None) -> None:
        """Record how far the step got; a rerun starts from there."""
        self.checkpoint = checkpoint
        where = (
            MigrationRecord.checkpoint.set(json.dumps(checkpoint))
            if checkpoint is not None
            else MigrationRecord.checkpoint.remove()
        )
        with storage_errors():
            MigrationRecord(pk=self._record.pk).update(
                actions=[where, MigrationRecord.changed.set(self.changed)]
            )
        self._lock.renew()


class Lease:
    """A lease item with a deadline: held by one run at a time, taken over once
    its holder has been silent past the deadline (a killed run)."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self.owner = uuid.uuid4().hex

    def acquire(self) -> None:
        now = self._now()
        with storage_errors():
            try:
                MigrationRecord(
                    pk=LOCK_KEY, owner=self.owner, lease_until=now + LEASE
                ).save(
                    condition=MigrationRecord.pk.does_not_exist()
                    | (MigrationRecord.lease_until < now)
                )
                return
            except PutError as exc:
                if exc.cause_response_code != CONDITION_FAILED:
                    raise
        holder = _get(LOCK_KEY)
        until = holder.lease_until if holder else None
        raise MigrationLocked(f"another migration run holds the lock until {until}")

    def renew(self) -> None:
        with storage_errors():
            try:
                MigrationRecord(pk=LOCK_KEY).update(
                    actions=[MigrationRecord.lease_until.set(self._now() + LEASE)],
                    condition=MigrationRecord.owner == self.owner,
                )
                return
            except UpdateError as exc:
                if exc.cause_response_code != CONDITION_FAILED:
                    raise
        # Silent past the deadline, and another run took over: stop, don't race it.
        raise MigrationLocked("this run lost the migration lock to another run")

    def release(self) -> None:
        with storage_errors():
            try:
                MigrationRecord(pk=LOCK_KEY).delete(
                    condition=MigrationRecord.owner == self.owner
                )
            except DeleteError as exc:
                # Lost the lease to another run already: nothing of ours to free.
                if exc.cause_response_code != CONDITION_FAILED:
                    raise


def _get(key: str) -> MigrationRecord | None:
    with storage_errors():
        try:
            return MigrationRecord.get(key, consistent_read=True)
        except DoesNotExist:
            return None


USER_PAGE = 100


def each_user(run: Run, visit: Callable[[UserItem], bool]) -> None:
    """Call ``visit`` on every user item, a page at a time, from the run's
    checkpoint on; ``visit`` says whether it changed the item.

    A Query on the users index, never a Scan: the partition every user had before
    the index was sharded, then each shard's; each page's users are then read
    whole by key, since the index projects only what a listing shows. The
    checkpoint saved after each page (the partition and the position in it) is
    where an interrupted run picks up, so ``visit`` must be safe to repeat on the
    page that was in flight (conditional writes make it so), and on a user it
    meets twice (one moved from the old partition to its shard meanwhile).
    """
    partitions = [LEGACY_USER_PARTITION, *shards.partitions(shards.USERS)]
    checkpoint: Any = run.checkpoint or {}
    # A checkpoint from before sharding is a position in the old partition.
    if checkpoint and "partition" not in checkpoint:
        checkpoint = {"partition": 0, "key": checkpoint}
    number: int = checkpoint.get("partition", 0)
    start: Any = checkpoint.get("key")
    while number < len(partitions):
        with storage_errors():
            results = UserItem.by_created_at.query(
                partitions[number],
                limit=USER_PAGE,
                page_size=USER_PAGE,
                last_evaluated_key=start,
            )
            listed = list(results)
            # The index carries what a listing shows, not the whole item: each
            # page's users are read whole by key (one BatchGetItem), in its order.
            found = {
                item.pk: item
                for item in UserItem.batch_get(
                    [item.pk for item in listed], consistent_read=True
                )
            }
            for listed_user in listed:
                user = found.get(listed_user.pk)
                if user is not None and visit(user):
                    run.count()
        start = results.last_evaluated_key
        if not start:
            number, start = number + 1, None
        run.save_checkpoint(
            {"partition": number, "key": start} if number < len(partitions) else None
        )


def status() -> list[tuple[Migration, datetime | None]]:
    """Every known migration and when it was applied (``None``: pending)."""
    result = []
    for migration in discover():
        record = _get(f"MIGRATION#{migration.id}")
        result.append((migration, record.applied_at if record else None))
    return result


def apply_pending(
    now: Callable[[], datetime],
    progress: Progress = lambda _: None,
    migrations: list[Migration] | None = None,
) -> list[Applied]:
    """Apply, in order, every migration not yet applied; return what ran."""
    lock = Lease(now)
    lock.acquire()
    applied = []
    try:
        for migration in migrations if migrations is not None else discover():
            key = f"MIGRATION#{migration.id}"
            record = _get(key)
            if record is not None and record.applied_at is not None:
                continue
            resumed = record is not None and record.checkpoint is not None
            if record is None:
                record = MigrationRecord(pk=key, changed=0)
                with storage_errors():
                    record.save()
            progress(
                f"{migration.id}: {'resuming' if resumed else 'applying'} "
                f"- {migration.description}"
            )
            run = Run(migration, lock, record)
            migration.forward(run)
            with storage_errors():
                MigrationRecord(pk=key).update(
                    actions=[
                        MigrationRecord.applied_at.set(now()),
                        MigrationRecord.checkpoint.remove(),
                        MigrationRecord.changed.set(run.changed),
                    ]
                )
            progress(f"{migration.id}: done, {run.changed} items changed")
            applied.append(Applied(migration.id, run.changed, resumed))
    finally:
        lock.release()
    return applied
