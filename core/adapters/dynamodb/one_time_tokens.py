"""``OneTimeTokens`` on DynamoDB, as items of the sessions table.

Only the SHA-256 of a token is stored: the token has 256 random bits, so a plain
hash is enough (no salt or slow hash needed), and a copy of the table cannot be
turned back into working links.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from pynamodb.constants import ALL_OLD
from pynamodb.exceptions import DeleteError

from core.adapters.dynamodb.errors import CONDITION_FAILED, storage_errors
from core.adapters.dynamodb.models import (
    OneTimeTokenItem,
    one_time_token_key,
    table_connection,
)
from core.application.ports import LinkGrant

TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class DynamoOneTimeTokens:
    def issue(
        self, purpose: str, user_id: str, now: datetime, ttl: timedelta, epoch: int = 0
    ) -> str:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with storage_errors():
            OneTimeTokenItem(
                id=one_time_token_key(token_hash(token)),
                purpose=purpose,
                token_user_id=user_id,
                epoch=epoch,
                created_at=now,
                expires_at=now + ttl,
            ).save(condition=OneTimeTokenItem.id.does_not_exist())
        return token

    def consume(self, purpose: str, token: str, now: datetime) -> LinkGrant | None:
        # One conditional DeleteItem both checks and uses the token: two requests
        # racing with the same token cannot both get its user. A token for another
        # purpose, or past its expiry (TTL deletion lags), fails the condition and
        # stays where it is.
        key = one_time_token_key(token_hash(token))
        with storage_errors():
            try:
                response = table_connection(OneTimeTokenItem).delete_item(
                    key,
                    condition=(OneTimeTokenItem.purpose == purpose)
                    & (OneTimeTokenItem.expires_at > now),
                    return_values=ALL_OLD,
                )
            except DeleteError as exc:
                if exc.cause_response_code == CONDITION_FAILED:
                    return None
                raise
        attributes = response.get("Attributes")
        if not attributes:
            return None
        item = OneTimeTokenItem.from_raw_data(attributes)
        return LinkGrant(user_id=item.token_user_id, epoch=int(item.epoch or 0))
