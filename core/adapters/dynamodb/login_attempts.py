"""``LoginAttempts`` on DynamoDB, as items of the sessions table."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from core.adapters.dynamodb.errors import storage_errors
from core.adapters.dynamodb.models import LoginAttemptItem, login_attempts_key
from core.application.ports import AttemptWindow

_CONDITION_FAILED = "ConditionalCheckFailedException"


class DynamoLoginAttempts:
    """One item per username; its TTL removes it some time after the window ends."""

    def current(self, username_key: str, now: datetime) -> AttemptWindow | None:
        with storage_errors():
            try:
                item = LoginAttemptItem.get(
                    login_attempts_key(username_key), consistent_read=True
                )
            except DoesNotExist:
                return None
        if item.expires_at <= now:
            return None
        return AttemptWindow(failures=int(item.failures), ends_at=item.expires_at)

    def record_failure(
        self, username_key: str, now: datetime, window: timedelta
    ) -> None:
        key = login_attempts_key(username_key)
        with storage_errors():
            # Count into the open window if there is one; otherwise open a new one.
            # Both writes are conditional, so two instances racing on the first
            # failure cannot both open a window and lose a count: the loser retries.
            for _ in range(2):
                try:
                    LoginAttemptItem(id=key).update(
                        actions=[LoginAttemptItem.failures.add(1)],
                        condition=LoginAttemptItem.expires_at > now,
                    )
                    return
                except UpdateError as exc:
                    if exc.cause_response_code != _CONDITION_FAILED:
                        raise
                try:
                    LoginAttemptItem(id=key, failures=1, expires_at=now + window).save(
                        condition=LoginAttemptItem.id.does_not_exist()
                        | (LoginAttemptItem.expires_at <= now)
                    )
                    return
                except PutError as exc:
                    if exc.cause_response_code != _CONDITION_FAILED:
                        raise

    def clear(self, username_key: str) -> None:
        with storage_errors(), suppress(DoesNotExist):
            LoginAttemptItem(id=login_attempts_key(username_key)).delete()
