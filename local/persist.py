"""``strata dev --persist``: the local stack's state kept across restarts.

On a clean stop, every item of the tables (users, sessions, tasks, billing) and the
Stripe emulator's whole account (its objects, events, bookkeeping and clock) go to
``.local/state/``; the next ``--persist`` start loads them back before it serves.
moto's server has no snapshot of its own (its recorder replays every request,
queue messages included, which would send old emails again), so the tables are
scanned out and written back. The task queue, the export bucket's files and the
outbox are not kept: a task still queued at the stop does not run after it; nor is
the emulator's record of its webhook deliveries (a loaded event shows as not sent).

The files are pickles this code wrote itself, under ``.local/`` (never shared):
the emulator's bookkeeping is dataclasses, which JSON does not carry.
"""

from __future__ import annotations

import os
import pickle  # our own files, see the docstring
from pathlib import Path
from typing import Any

from stripe_emulator import Emulator

DEFAULT_DIR = Path(__file__).resolve().parent.parent / ".local" / "state"
TABLES_FILE = "dynamodb.pickle"
STRIPE_FILE = "stripe.pickle"
# What the emulator rebuilds itself: where it runs and the plan catalog's prices
# (which may have changed since).
_STORE_REBUILT = {"base_url", "clock", "_price_configs", "prices", "products"}
_BATCH = 25  # BatchWriteItem's limit


def state_dir(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("STRATA_STATE_DIR") or DEFAULT_DIR)


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(pickle.dumps(data))
    os.replace(temporary, path)


def _read(path: Path) -> Any:
    try:
        return pickle.loads(path.read_bytes())  # noqa: S301 (our own file)
    except FileNotFoundError:
        return None


# --- the Stripe emulator ------------------------------------------------------------


def save_stripe(emulator: Emulator, directory: Path) -> int:
    """Write the emulator's account to ``directory``; returns how many objects."""
    store = emulator.state.store
    with emulator._lock:  # the emulator's one lock on its state
        kept = {k: v for k, v in vars(store).items() if k not in _STORE_REBUILT}
        data = {
            "store": kept,
            "offset": emulator.clock.offset,
            "bodies": dict(emulator.bodies),
            "webhook_endpoints": list(emulator.webhook_endpoints),
        }
        _write(directory / STRIPE_FILE, data)
    return _count_objects(kept)


def restore_stripe(emulator: Emulator, directory: Path) -> int | None:
    """Load the account saved in ``directory`` into a fresh emulator; returns how
    many objects, or None when nothing was saved."""
    data = _read(directory / STRIPE_FILE)
    if data is None:
        return None
    with emulator._lock:  # the emulator's one lock on its state
        vars(emulator.state.store).update(data["store"])
        emulator.bodies.update(data["bodies"])
        emulator.webhook_endpoints[:] = data["webhook_endpoints"]
        if data["offset"]:
            # Also rewrites the offset file: the API's clock moves with it.
            emulator.clock.advance(int(data["offset"]))
    return _count_objects(data["store"])


def _count_objects(store: dict[str, Any]) -> int:
    kinds = ("customers", "subscriptions", "invoices", "charges", "sessions")
    return sum(len(store.get(kind, {})) for kind in kinds)


# --- the tables in moto -------------------------------------------------------------


def save_tables(dynamodb: Any, tables: list[str], directory: Path) -> int:
    """Scan every item of ``tables`` (a botocore DynamoDB client) into
    ``directory``; returns how many items."""
    saved: dict[str, list[dict[str, Any]]] = {}
    for table in tables:
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            items.extend(page.get("Items", []))
        saved[table] = items
    _write(directory / TABLES_FILE, saved)
    return sum(len(items) for items in saved.values())


def restore_tables(dynamodb: Any, directory: Path) -> int | None:
    """Write the saved items back into their (existing, empty) tables; returns how
    many, or None when nothing was saved."""
    saved: dict[str, list[dict[str, Any]]] | None = _read(directory / TABLES_FILE)
    if saved is None:
        return None
    for table, items in saved.items():
        for start in range(0, len(items), _BATCH):
            requests = [
                {"PutRequest": {"Item": i}} for i in items[start : start + _BATCH]
            ]
            pending: dict[str, Any] = {table: requests}
            while pending:
                answer = dynamodb.batch_write_item(RequestItems=pending)
                pending = answer.get("UnprocessedItems") or {}
    return sum(len(items) for items in saved.values())
