"""Users stored before the listing indexes were sharded carry the old constant
partition keys (``USER``, ``UNVERIFIED``, ``SUBSCRIBED``); each gets its shard's
(``USER.<n>``, ...), which moves it into the partitions the listings Query.

Run it again after changing a stage's shard count (``STRATA_USER_INDEX_SHARDS``): a
key that is not the user's shard under the current count is moved too. Until it
has run, a moved user may be missing from listings; the walk itself reads the old
partition and every shard, so it finds everyone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import UpdateError

from core.adapters.dynamodb import shards
from core.adapters.dynamodb.errors import CONDITION_FAILED
from core.adapters.dynamodb.migrations import each_user
from core.adapters.dynamodb.models import UserItem

if TYPE_CHECKING:
    from core.adapters.dynamodb.migrations import Run

ID = "0003_shard_user_indexes"
DESCRIPTION = "move users into their shard of the listing indexes"

_KEYS: tuple[tuple[UnicodeAttribute, str], ...] = (
    (UserItem.list_pk, shards.USERS),
    (UserItem.unverified_pk, shards.UNVERIFIED),
    (UserItem.billing_pk, shards.SUBSCRIBED),
)


def forward(run: Run) -> None:
    each_user(run, _move_to_shard)


def _move_to_shard(user: UserItem) -> bool:
    moved = False
    for attribute, base in _KEYS:
        current = getattr(user, attribute.attr_name)
        wanted = shards.partition(base, user.id)
        # Absent stays absent: the sparse indexes hold only users that carry it.
        if current is None or current == wanted:
            continue
        try:
            # Conditioned on the value read: whatever the app wrote meanwhile (it
            # writes the right shard, or removes the key) wins over this move.
            user.update(
                actions=[attribute.set(wanted)],
                condition=attribute == current,
                add_version_condition=False,
            )
        except UpdateError as exc:
            if exc.cause_response_code != CONDITION_FAILED:
                raise
            continue
        moved = True
    return moved
