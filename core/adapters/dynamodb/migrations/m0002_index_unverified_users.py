"""Users with an unverified email stored before the unverified index existed get
``unverified_pk``, which puts them in that (sparse) index.

The daily purge of accounts that never verified their email reads that index only;
a user without the attribute would never be purged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.exceptions import UpdateError

from core.adapters.dynamodb import shards
from core.adapters.dynamodb.errors import CONDITION_FAILED
from core.adapters.dynamodb.migrations import each_user
from core.adapters.dynamodb.models import UserItem

if TYPE_CHECKING:
    from core.adapters.dynamodb.migrations import Run

ID = "0002_index_unverified_users"
DESCRIPTION = "set unverified_pk on users whose email is not verified"


def forward(run: Run) -> None:
    # Runs after 0001, so every user has ``email_verified``.
    each_user(run, _index_if_unverified)


def _index_if_unverified(user: UserItem) -> bool:
    if user.email_verified or user.unverified_pk is not None:
        return False
    try:
        # Conditioned on the stored item, not on the version read: the attribute
        # follows from ``email_verified`` alone, so whatever the app wrote
        # meanwhile, this write is right or refused.
        user.update(
            actions=[
                UserItem.unverified_pk.set(shards.partition(shards.UNVERIFIED, user.id))
            ],
            condition=(UserItem.email_verified == False)  # noqa: E712
            & UserItem.unverified_pk.does_not_exist(),
            add_version_condition=False,
        )
    except UpdateError as exc:
        # Verified, indexed or removed meanwhile: nothing left to do.
        if exc.cause_response_code != CONDITION_FAILED:
            raise
        return False
    return True
