"""Users stored before ``email_verified`` existed get it, set to false.

Email verification (the jobs and email issue) filters and indexes users on this
attribute; an item without it would silently fall out of those reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.exceptions import UpdateError

from core.adapters.dynamodb.errors import CONDITION_FAILED
from core.adapters.dynamodb.migrations import each_user
from core.adapters.dynamodb.models import UserItem

if TYPE_CHECKING:
    from core.adapters.dynamodb.migrations import Run

ID = "0001_backfill_email_verified"
DESCRIPTION = "set email_verified = false on users that lack it"


def forward(run: Run) -> None:
    each_user(run, _backfill)


def _backfill(user: UserItem) -> bool:
    try:
        # On the item as read: pynamodb adds its version condition, so a user the
        # app saved meanwhile is never overwritten.
        user.update(
            actions=[UserItem.email_verified.set(False)],
            condition=UserItem.email_verified.does_not_exist(),
        )
    except UpdateError as exc:
        # Set already (a rerun), or saved by the app meanwhile, which writes the
        # attribute: nothing left to do either way.
        if exc.cause_response_code != CONDITION_FAILED:
            raise
        return False
    return True
