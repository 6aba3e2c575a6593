"""Users stored before ``email_verified`` existed get it, set to false.

Email verification (the jobs and email issue) filters and indexes users on this
attribute; an item without it would silently fall out of those reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import UpdateError

from core.adapters.dynamodb.errors import storage_errors
from core.adapters.dynamodb.models import USER_LIST_PARTITION, UserItem

if TYPE_CHECKING:
    from core.adapters.dynamodb.migrations import Run

ID = "0001_backfill_email_verified"
DESCRIPTION = "set email_verified = false on users that lack it"
PAGE = 100


def forward(run: Run) -> None:
    # A Query on the users index, a page at a time, never a Scan; the checkpoint
    # after each page is where an interrupted run picks up.
    start: Any = run.checkpoint
    while True:
        with storage_errors():
            results = UserItem.by_created_at.query(
                USER_LIST_PARTITION,
                limit=PAGE,
                page_size=PAGE,
                last_evaluated_key=start,
            )
            for user in results:
                try:
                    # On the item as read: pynamodb adds its version condition, so
                    # a user the app saved meanwhile is never overwritten.
                    user.update(
                        actions=[UserItem.email_verified.set(False)],
                        condition=UserItem.email_verified.does_not_exist(),
                    )
                    run.count()
                except UpdateError as exc:
                    # Set already (a rerun), or saved by the app meanwhile, which
                    # writes the attribute: nothing left to do either way.
                    if exc.cause_response_code != "ConditionalCheckFailedException":
                        raise
        start = results.last_evaluated_key
        run.save_checkpoint(start)
        if not start:
            return
