"""``RateLimiter`` on DynamoDB: counters as items of the sessions table."""

from __future__ import annotations

import math
from contextlib import suppress
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from core.adapters.dynamodb.errors import storage_errors
from core.adapters.dynamodb.models import RateCounterItem, rate_counter_key
from core.application.errors import TooManyAttempts
from core.application.ports import Hit, Limit

_CONDITION_FAILED = "ConditionalCheckFailedException"


def window_of(limit: Limit, now: datetime) -> tuple[int, datetime]:
    """The number of the fixed window ``now`` falls in, and when it ends."""
    seconds = max(1, int(limit.window.total_seconds()))
    index = int(now.timestamp()) // seconds
    return index, datetime.fromtimestamp((index + 1) * seconds, UTC)


def retry_after(ends_at: datetime, now: datetime) -> int:
    return max(1, math.ceil((ends_at - now).total_seconds()))


def counter_of(limit: Limit, key: str, now: datetime) -> tuple[str, datetime]:
    index, ends_at = window_of(limit, now)
    return rate_counter_key(limit.name, key, index), ends_at


class DynamoRateLimiter:
    """One item per key and fixed window; its TTL removes it after the window.

    A hit is a single conditional ``UpdateItem`` (``ADD hits 1`` if the counter is
    absent or below the limit): DynamoDB applies conditional writes to one item one
    at a time, so no number of simultaneous hits, from any number of instances, can
    count past the limit. No read decides anything.
    """

    def hit(self, limit: Limit, key: str, now: datetime) -> Hit:
        counter, ends_at = counter_of(limit, key, now)
        with storage_errors():
            try:
                RateCounterItem(id=counter).update(
                    actions=[
                        RateCounterItem.hits.add(1),
                        RateCounterItem.expires_at.set(ends_at),
                    ],
                    condition=RateCounterItem.hits.does_not_exist()
                    | (RateCounterItem.hits < limit.max_hits),
                )
            except UpdateError as exc:
                if exc.cause_response_code != _CONDITION_FAILED:
                    raise
                raise TooManyAttempts(retry_after=retry_after(ends_at, now)) from None
        return Hit(limit=limit, key=key, counter=counter, window_ends_at=ends_at)

    def refund(self, hit: Hit) -> None:
        with storage_errors():
            try:
                RateCounterItem(id=hit.counter).update(
                    actions=[RateCounterItem.hits.add(-1)],
                    condition=RateCounterItem.hits > 0,
                )
            except UpdateError as exc:
                if exc.cause_response_code != _CONDITION_FAILED:
                    raise

    def clear(self, limit: Limit, key: str, now: datetime) -> None:
        counter, _ = counter_of(limit, key, now)
        with storage_errors(), suppress(DoesNotExist):
            RateCounterItem(id=counter).delete()
