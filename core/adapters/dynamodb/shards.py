"""The write-sharded partitions of the users table's listing indexes.

Each listing index (every user by username or by creation time, the unverified
ones, the subscribed ones) groups users under a constant partition key so that a
Query reads them in order, never a Scan. One constant would put every user write
on one index partition, which DynamoDB caps at about 1,000 writes per second; so a
user's index partition is the constant plus a shard number taken from a hash of the
user's id (``USER.0`` ... ``USER.<n-1>``), and a listing merges one Query per shard.
``n`` is a setting per stage (``STRATA_USER_INDEX_SHARDS``); changing it on a stage
with users needs the re-shard migration (``m0003``) run again.
"""

from __future__ import annotations

import hashlib

DEFAULT_USER_SHARDS = 4
MAX_USER_SHARDS = 64

# The partitions' constants, before the shard number.
USERS = "USER"
UNVERIFIED = "UNVERIFIED"
SUBSCRIBED = "SUBSCRIBED"

_configured = DEFAULT_USER_SHARDS


def configure(shards: int) -> None:
    """Set the stage's shard count; ``bind_tables`` calls it at cold start."""
    if not 1 <= shards <= MAX_USER_SHARDS:
        raise ValueError(f"user index shards must be 1 to {MAX_USER_SHARDS}: {shards}")
    global _configured
    _configured = shards


def count() -> int:
    return _configured


def shard_of(user_id: str, shards: int | None = None) -> int:
    """The user's shard: stable across processes and releases (not ``hash()``,
    which Python salts per process)."""
    digest = hashlib.blake2b(user_id.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % (shards or _configured)


def partition(base: str, user_id: str) -> str:
    """The index partition of ``user_id`` under ``base`` (``USERS``, ...)."""
    return f"{base}.{shard_of(user_id)}"


def partitions(base: str, shards: int | None = None) -> list[str]:
    """Every index partition under ``base``, in shard order."""
    return [f"{base}.{n}" for n in range(shards or _configured)]
