"""``RateLimiter`` on DynamoDB: counters as items of the sessions table."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from core.adapters.dynamodb.errors import CONDITION_FAILED, storage_errors
from core.adapters.dynamodb.models import (
    RateCounterItem,
    rate_counter_key,
    table_connection,
)
from core.application.errors import TooManyAttempts
from core.application.ports import Hit, Limit

# A transaction's cancellation reasons name their codes without the suffix.
_REASONCONDITION_FAILED = "ConditionalCheckFailed"
_REASON_CONFLICT = "TransactionConflict"
# DynamoDB cancels a transaction that meets another in flight on one of its items;
# a few more tries, after a short random pause (as AWS advises for conflicts), get
# most of them through, then the reservation is refused.
_CONFLICT_TRIES = 3
_CONFLICT_PAUSE_SECONDS = 0.02


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
    count past the limit. No read decides anything. Several hits at once
    (``hit_all``) are one ``TransactWriteItems`` of those conditional updates, so
    they are counted together or not at all, in one round trip.
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
                if exc.cause_response_code != CONDITION_FAILED:
                    raise
                raise TooManyAttempts(retry_after=retry_after(ends_at, now)) from None
        return Hit(limit=limit, key=key, counter=counter, window_ends_at=ends_at)

    def hit_all(
        self, keys: Sequence[tuple[Limit, str]], now: datetime
    ) -> tuple[Hit, ...]:
        if not keys:
            return ()
        if len(keys) == 1:
            # One counter needs no transaction (which costs twice the capacity).
            ((limit, key),) = keys
            return (self.hit(limit, key, now),)
        counters = [(limit, key, *counter_of(limit, key, now)) for limit, key in keys]
        with storage_errors():
            for tries_left in range(_CONFLICT_TRIES - 1, -1, -1):
                try:
                    self._reserve(counters)
                    break
                except TransactWriteError as exc:
                    codes = [
                        reason.code if reason else None
                        for reason in exc.cancellation_reasons or []
                    ]
                    # The reasons come in the order of the writes: the refused
                    # counters tell how long until every one of them has room.
                    refused = [
                        ends_at
                        for (_, _, _, ends_at), code in zip(
                            counters, codes, strict=False
                        )
                        if code == _REASONCONDITION_FAILED
                    ]
                    if refused:
                        raise TooManyAttempts(
                            retry_after=retry_after(max(refused), now)
                        ) from None
                    if _REASON_CONFLICT not in codes:
                        raise
                    if tries_left == 0:
                        # Fails closed: a reservation that cannot be made is
                        # refused, like one over its limit.
                        raise TooManyAttempts(retry_after=1) from None
                    # Not a secret: only spreads the retries of rivals apart.
                    time.sleep(random.uniform(0, _CONFLICT_PAUSE_SECONDS))  # noqa: S311
        return tuple(
            Hit(limit=limit, key=key, counter=counter, window_ends_at=ends_at)
            for limit, key, counter, ends_at in counters
        )

    @staticmethod
    def _reserve(counters: Sequence[tuple[Limit, str, str, datetime]]) -> None:
        with TransactWrite(
            connection=table_connection(RateCounterItem).connection
        ) as transaction:
            # The order of these writes is read back from the cancellation
            # reasons in ``hit_all``.
            for limit, _, counter, ends_at in counters:
                transaction.update(
                    RateCounterItem(id=counter),
                    actions=[
                        RateCounterItem.hits.add(1),
                        RateCounterItem.expires_at.set(ends_at),
                    ],
                    condition=RateCounterItem.hits.does_not_exist()
                    | (RateCounterItem.hits < limit.max_hits),
                )

    def refund(self, hit: Hit) -> None:
        with storage_errors():
            try:
                RateCounterItem(id=hit.counter).update(
                    actions=[RateCounterItem.hits.add(-1)],
                    condition=RateCounterItem.hits > 0,
                )
            except UpdateError as exc:
                if exc.cause_response_code != CONDITION_FAILED:
                    raise

    def clear(self, limit: Limit, key: str, now: datetime) -> None:
        counter, _ = counter_of(limit, key, now)
        with storage_errors(), suppress(DoesNotExist):
            RateCounterItem(id=counter).delete()
