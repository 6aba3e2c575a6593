"""The purge of unverified accounts on moto: the index, the removal and the
sessions, end to end below the worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.adapters.clock import SystemClock
from core.adapters.dynamodb.models import email_marker_key, username_marker_key
from core.adapters.dynamodb.sessions import DynamoSessionStore
from core.adapters.dynamodb.users import DynamoUserRepository
from core.application.jobs.purge_unverified import PurgeUnverifiedJob
from core.domain.user import Role
from tests.integration.conftest import MakeSession, MakeUser
from tests.integration.test_dynamo_users import stored_item


def test_the_purge_removes_old_unverified_plain_users_and_their_sessions_only(
    users: DynamoUserRepository,
    sessions: DynamoSessionStore,
    make_user: MakeUser,
    make_session: MakeSession,
) -> None:
    doomed = [users.add(make_user()) for _ in range(5)]
    for user in doomed[:2]:
        sessions.add(make_session(user.id))
    verified = users.save(users.add(make_user()).with_email_verified())
    admin = users.add(make_user(role=Role.ADMIN))
    recent = users.add(make_user(created_at=datetime.now(UTC)))
    job = PurgeUnverifiedJob(
        users, sessions, SystemClock(), timedelta(days=7), page_size=2
    )

    result = job.run({})

    assert result == {"purged": 5}
    for user in doomed:
        assert users.get(user.id) is None
        assert stored_item(username_marker_key(user.username.key)) is None
        assert stored_item(email_marker_key(user.email.key)) is None
        assert sessions.delete_all_for_user(user.id) == 0
    for user in (verified, admin, recent):
        assert users.get(user.id) is not None
    assert job.run({}) == {"purged": 0}


def test_the_removal_itself_refuses_a_user_with_a_customer_or_a_subscription(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    from dataclasses import replace

    from core.adapters.dynamodb.billing import DynamoBillingStore
    from core.application.errors import ConcurrentUpdate

    read = users.add(make_user())
    # A checkout attached a customer after the purge read the page: even with the
    # stored version, the delete's condition refuses.
    attached = DynamoBillingStore().attach_customer(read, "cus_race_purge")

    try:
        users.remove(replace(read, version=attached.version))
    except ConcurrentUpdate:
        pass
    else:
        raise AssertionError("a user with a Stripe customer was deleted")
    assert users.get(read.id) is not None
    assert stored_item(email_marker_key(read.email.key)) is not None
