"""``DynamoSessionStore`` against moto: one read per lookup, expiry checked on read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.adapters.dynamodb.models import SessionItem, dynamodb_client
from core.adapters.dynamodb.sessions import DynamoSessionStore
from core.adapters.dynamodb.users import DynamoUserRepository
from core.application.commands.authenticate import Authenticate
from core.application.errors import (
    ApplicationError,
    DependencyUnavailable,
    NotAuthenticated,
)
from core.domain.user import User
from tests.conftest import DynamoCalls
from tests.integration.conftest import MakeSession, MakeUser


def stored_session(session_id: str) -> dict[str, Any] | None:
    """The raw session item, read past the adapter."""
    client = dynamodb_client()
    response = client.get_item(
        TableName=SessionItem.Meta.table_name,
        Key={"id": {"S": session_id}},
        ConsistentRead=True,
    )
    item: dict[str, Any] | None = response.get("Item")
    return item


@pytest.fixture
def alice(users: DynamoUserRepository, make_user: MakeUser) -> User:
    user = make_user("alice01")
    users.add(user)
    return replace(user, version=1)


def test_a_session_and_its_user_come_back_together_in_one_batch_get(
    sessions: DynamoSessionStore,
    alice: User,
    make_session: MakeSession,
    dynamo_calls: DynamoCalls,
) -> None:
    session = make_session(alice.id)
    sessions.add(session)
    dynamo_calls.reset()

    found_session, found_user = sessions.get_with_user(session.id, alice.id)

    assert found_session == session
    assert found_user == alice
    assert dict(dynamo_calls.counts) == {"BatchGetItem": 1}


def test_unknown_session_and_user_ids_come_back_as_none(
    sessions: DynamoSessionStore, alice: User, make_session: MakeSession
) -> None:
    session = make_session(alice.id)
    sessions.add(session)

    assert sessions.get_with_user("no-such-session", "no-such-user") == (None, None)
    assert sessions.get_with_user(session.id, "no-such-user") == (session, None)
    assert sessions.get_with_user("no-such-session", alice.id) == (None, alice)


def test_a_session_id_cannot_be_added_twice(
    sessions: DynamoSessionStore, alice: User, make_session: MakeSession
) -> None:
    session = make_session(alice.id)
    sessions.add(session)

    # A clash of 122 random bits means something is badly wrong: refuse, never
    # overwrite another person's session.
    with pytest.raises(ApplicationError):
        sessions.add(replace(session, user_id="someone-else"))

    assert sessions.get_with_user(session.id, alice.id)[0] == session


def test_extend_moves_only_the_stored_expiry(
    sessions: DynamoSessionStore, alice: User, make_session: MakeSession
) -> None:
    session = make_session(alice.id, expires_in=timedelta(minutes=2))
    sessions.add(session)
    sessions.move_to_epoch(session.id, 4)
    later = session.expires_at + timedelta(hours=1)

    # The renewal read the session at epoch 0; it must not write that epoch back.
    sessions.extend(session.id, later)

    stored = sessions.get_with_user(session.id, alice.id)[0]
    assert stored == replace(session, expires_at=later, epoch=4)


def test_move_to_epoch_changes_only_the_epoch(
    sessions: DynamoSessionStore, alice: User, make_session: MakeSession
) -> None:
    session = make_session(alice.id)
    sessions.add(session)

    sessions.move_to_epoch(session.id, 2)

    assert sessions.get_with_user(session.id, alice.id)[0] == replace(session, epoch=2)


def test_extend_or_move_of_a_deleted_session_is_a_no_op_and_does_not_recreate_it(
    sessions: DynamoSessionStore, alice: User, make_session: MakeSession
) -> None:
    session = make_session(alice.id)
    sessions.add(session)
    sessions.delete(session.id)

    sessions.extend(session.id, session.expires_at + timedelta(hours=1))
    sessions.move_to_epoch(session.id, 3)

    assert stored_session(session.id) is None


def test_delete_ends_the_session_and_deleting_it_again_is_no_error(
    sessions: DynamoSessionStore, alice: User, make_session: MakeSession
) -> None:
    session = make_session(alice.id)
    sessions.add(session)

    sessions.delete(session.id)
    sessions.delete(session.id)

    assert stored_session(session.id) is None


def test_delete_all_for_user_ends_every_session_but_the_kept_one_and_nobody_elses(
    sessions: DynamoSessionStore,
    users: DynamoUserRepository,
    alice: User,
    make_user: MakeUser,
    make_session: MakeSession,
) -> None:
    bob = make_user("bobby01")
    users.add(bob)
    alices = [make_session(alice.id) for _ in range(4)]
    bobs = [make_session(bob.id) for _ in range(2)]
    for session in alices + bobs:
        sessions.add(session)

    ended = sessions.delete_all_for_user(alice.id, keep=alices[0].id)

    assert ended == 3
    assert stored_session(alices[0].id) is not None
    assert [stored_session(s.id) for s in alices[1:]] == [None, None, None]
    assert all(stored_session(s.id) is not None for s in bobs)
    assert sessions.delete_all_for_user(alice.id) == 1
    assert stored_session(alices[0].id) is None
    assert sessions.delete_all_for_user("nobody") == 0


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment


def test_an_expired_session_that_ttl_has_not_deleted_yet_is_refused(
    container: Any, make_user: MakeUser, make_session: MakeSession
) -> None:
    user = make_user("expired01")
    container.users.add(user)
    session = make_session(user.id, expires_in=-timedelta(minutes=5))
    container.sessions.add(session)
    # The token still looks valid: only the stored session says it is over.
    token = container.tokens.issue(
        replace(session, expires_at=session.expires_at + timedelta(hours=1))
    )

    with pytest.raises(NotAuthenticated):
        container.authenticate().execute(token)

    assert stored_session(session.id) is not None


def test_a_session_is_refused_from_the_moment_the_clock_passes_its_stored_expiry(
    container: Any, make_user: MakeUser, make_session: MakeSession
) -> None:
    user = make_user("expiring1")
    container.users.add(user)
    session = make_session(user.id, expires_in=timedelta(minutes=10))
    container.sessions.add(session)
    token = container.tokens.issue(session)

    def authenticate_at(moment: datetime) -> Authenticate:
        return Authenticate(
            container.sessions,
            container.tokens,
            FixedClock(moment),
            container.session_ttl,
            container.settings.session_renew_threshold,
        )

    just_before = session.expires_at - timedelta(seconds=1)
    assert authenticate_at(just_before).execute(token, renew=False).user.id == user.id
    with pytest.raises(NotAuthenticated):
        authenticate_at(session.expires_at).execute(token, renew=False)
    assert stored_session(session.id) is not None
    assert session.expires_at > datetime.now(UTC)


def test_keys_batch_get_never_got_to_are_a_503_not_an_unknown_session(
    sessions: DynamoSessionStore, alice: User, make_session: MakeSession
) -> None:
    # DynamoDB under throttling hands the keys back unprocessed; when they are
    # still unprocessed after the retries, not knowing is not "no such session":
    # the request answers 503, not 401 (which would log the user out).
    session = make_session(alice.id)
    sessions.add(session)
    client = dynamodb_client()
    tries: list[int] = []

    def throttle(parsed: dict[str, Any], **_: Any) -> None:
        tries.append(1)
        table = SessionItem.Meta.table_name
        parsed["Responses"] = {}
        parsed["UnprocessedKeys"] = {table: {"Keys": [{"id": {"S": session.id}}]}}

    client.meta.events.register("after-call.dynamodb.BatchGetItem", throttle)
    try:
        with pytest.raises(DependencyUnavailable):
            sessions.get_with_user(session.id, alice.id)
    finally:
        client.meta.events.unregister("after-call.dynamodb.BatchGetItem", throttle)

    assert len(tries) == 3
