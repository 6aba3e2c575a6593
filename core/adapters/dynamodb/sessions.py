"""``SessionStore`` on DynamoDB."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from core.adapters.dynamodb.errors import CONDITION_FAILED, storage_errors
from core.adapters.dynamodb.models import (
    RateCounterItem,
    SessionItem,
    UserItem,
    dynamodb_client,
    table_connection,
    user_key,
)
from core.adapters.dynamodb.users import to_domain as user_to_domain
from core.application.errors import DependencyUnavailable
from core.application.ports import Settlement
from core.domain.session import Session
from core.domain.user import User

# BatchGetItem may hand back keys it did not get to; retrying a few times is what
# AWS asks for. Two keys almost never need more than one try.
_BATCH_TRIES = 3


def to_domain(item: SessionItem) -> Session:
    return Session(
        id=item.id,
        user_id=item.user_id,
        created_at=item.created_at,
        expires_at=item.expires_at,
        epoch=int(item.epoch),
    )


class DynamoSessionStore:
    """Sessions in their own table, with an index by user to end them all at once."""

    def add(self, session: Session, settle: Settlement | None = None) -> None:
        item = SessionItem(
            id=session.id,
            user_id=session.user_id,
            created_at=session.created_at,
            expires_at=session.expires_at,
            epoch=session.epoch,
        )
        with storage_errors():
            if settle is None or not (settle.clear or settle.refund):
                item.save(condition=SessionItem.id.does_not_exist())
                return
            # One round trip for the session and the log-in's counters: the
            # counters live in the same table.
            with TransactWrite(
                connection=table_connection(SessionItem).connection
            ) as transaction:
                transaction.save(item, condition=SessionItem.id.does_not_exist())
                for hit in settle.clear:
                    transaction.delete(RateCounterItem(id=hit.counter))
                for hit in settle.refund:
                    # Unconditional, so a counter gone early cannot cancel the
                    # log-in; the expiry keeps a recreated one from lingering.
                    transaction.update(
                        RateCounterItem(id=hit.counter),
                        actions=[
                            RateCounterItem.hits.add(-1),
                            RateCounterItem.expires_at.set(hit.window_ends_at),
                        ],
                    )

    def get_with_user(
        self, session_id: str, user_id: str
    ) -> tuple[Session | None, User | None]:
        sessions_table = SessionItem.Meta.table_name
        users_table = UserItem.Meta.table_name
        request: dict[str, Any] = {
            sessions_table: {
                "Keys": [{"id": {"S": session_id}}],
                "ConsistentRead": True,
            },
            users_table: {
                "Keys": [{"pk": {"S": user_key(user_id)}}],
                "ConsistentRead": True,
            },
        }
        found: dict[str, list[dict[str, Any]]] = {sessions_table: [], users_table: []}
        client = dynamodb_client()
        with storage_errors():
            for _ in range(_BATCH_TRIES):
                response = client.batch_get_item(RequestItems=request)
                for table, items in response.get("Responses", {}).items():
                    found[table].extend(items)
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
        if request:
            # Keys DynamoDB never got to (throttling): not knowing is not "no such
            # session", so this is 503, not 401.
            raise DependencyUnavailable()
        session = (
            to_domain(SessionItem.from_raw_data(found[sessions_table][0]))
            if found[sessions_table]
            else None
        )
        user = (
            user_to_domain(UserItem.from_raw_data(found[users_table][0]))
            if found[users_table]
            else None
        )
        return session, user

    def extend(self, session_id: str, expires_at: datetime) -> None:
        self._set_if_present(session_id, SessionItem.expires_at.set(expires_at))

    def move_to_epoch(self, session_id: str, epoch: int) -> None:
        self._set_if_present(session_id, SessionItem.epoch.set(epoch))

    @staticmethod
    def _set_if_present(session_id: str, action: Action) -> None:
        with storage_errors():
            try:
                SessionItem(id=session_id).update(
                    actions=[action], condition=SessionItem.id.exists()
                )
            except UpdateError as exc:
                if exc.cause_response_code != CONDITION_FAILED:
                    raise

    def delete(self, session_id: str) -> None:
        with storage_errors(), suppress(DoesNotExist):
            SessionItem(id=session_id).delete()

    def delete_all_for_user(self, user_id: str, keep: str | None = None) -> int:
        ended = 0
        with storage_errors(), SessionItem.batch_write() as batch:
            for item in SessionItem.by_user.query(user_id):
                if item.id != keep:
                    batch.delete(item)
                    ended += 1
        return ended
