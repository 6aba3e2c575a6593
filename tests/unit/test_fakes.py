"""The fakes must keep the ports' contracts, or the application tests prove nothing."""

from __future__ import annotations

import inspect
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.application import ports
from core.application.errors import (
    ConcurrentUpdate,
    DuplicateEvent,
    EmailTaken,
    InvalidCursor,
    NotAuthenticated,
    UsernameTaken,
)
from core.application.ports import (
    LinkGrant,
    SortOrder,
    TokenClaims,
    UserSort,
)
from core.domain.billing import (
    Billing,
    Interval,
    Subscription,
    SubscriptionStatus,
)
from core.domain.session import Session
from core.domain.task import Task, TaskStatus
from core.domain.user import Email, Role, User, Username
from tests.fakes import (
    FakeClock,
    FakeCursorCodec,
    FakePasswordHasher,
    FakeTokenCodec,
    InMemoryBillingStore,
    InMemoryExportStore,
    InMemoryOneTimeTokens,
    InMemorySessionStore,
    InMemoryTaskStore,
    InMemoryUserRepository,
    RecordingMailer,
    RecordingTaskQueue,
    SequentialIds,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def user(
    user_id: str, username: str, email: str | None = None, created_at: datetime = T0
) -> User:
    return User(
        id=user_id,
        username=Username(username),
        email=Email(email or f"{username}@example.com"),
        password_hash="h",
        role=Role.USER,
        is_active=True,
        created_at=created_at,
    )


@pytest.mark.parametrize(
    ("port", "fake"),
    [
        (ports.UserRepository, InMemoryUserRepository),
        (ports.SessionStore, InMemorySessionStore),
        (ports.PasswordHasher, FakePasswordHasher),
        (ports.TokenCodec, FakeTokenCodec),
        (ports.CursorCodec, FakeCursorCodec),
        (ports.Clock, FakeClock),
        (ports.IdGenerator, SequentialIds),
        (ports.Mailer, RecordingMailer),
        (ports.OneTimeTokens, InMemoryOneTimeTokens),
        (ports.TaskStore, InMemoryTaskStore),
        (ports.TaskQueue, RecordingTaskQueue),
        (ports.ExportStore, InMemoryExportStore),
        (ports.BillingStore, InMemoryBillingStore),
    ],
)
def test_each_fake_has_every_method_of_its_port_with_the_same_parameters(
    port: type, fake: type
) -> None:
    methods = [
        name
        for name, value in vars(port).items()
        if callable(value) and not name.startswith("_")
    ]
    assert methods
    for name in methods:
        expected = list(inspect.signature(getattr(port, name)).parameters)
        assert list(inspect.signature(getattr(fake, name)).parameters) == expected


def test_add_claims_username_and_email_case_insensitively_and_atomically() -> None:
    repo = InMemoryUserRepository()
    repo.add(user("1", "Alice", "Alice@Example.com"))

    with pytest.raises(UsernameTaken):
        repo.add(user("2", "ALICE", "new@example.com"))
    with pytest.raises(EmailTaken):
        repo.add(user("3", "bobby", "alice@EXAMPLE.com"))

    assert [u.id for u in repo.all()] == ["1"]
    # Nothing of the refused adds was claimed: both are still free.
    repo.add(user("4", "bobby", "new@example.com"))


def test_add_stores_version_1_and_save_needs_the_version_it_read() -> None:
    repo = InMemoryUserRepository()
    repo.add(user("1", "alice"))
    first = repo.get("1")
    assert first is not None
    assert first.version == 1

    saved = repo.save(first.activated())
    assert saved.version == 2
    with pytest.raises(ConcurrentUpdate):
        repo.save(first.deactivated())
    stored = repo.get("1")
    assert stored == saved
    with pytest.raises(ConcurrentUpdate):
        repo.save(user("9", "ghost1"))


def test_get_by_username_takes_the_key_not_the_spelling() -> None:
    repo = InMemoryUserRepository()
    repo.add(user("1", "Alice"))
    assert repo.get_by_username("alice") is not None
    assert repo.get_by_username("Alice") is None


def test_list_page_refuses_a_position_of_another_index() -> None:
    repo = InMemoryUserRepository()
    repo.add(user("1", "alice"))
    repo.add(user("2", "bobby"))
    page = repo.list_page(UserSort.USERNAME, SortOrder.ASC, 1, None)
    assert page.next_position is not None
    with pytest.raises(InvalidCursor):
        repo.list_page(UserSort.CREATED_AT, SortOrder.ASC, 1, page.next_position)


def test_list_page_orders_equal_creation_times_stably_across_pages() -> None:
    repo = InMemoryUserRepository()
    for i in range(5):
        repo.add(user(f"id-{i}", f"user{i}", created_at=T0))
    seen, start = [], None
    while True:
        page = repo.list_page(UserSort.CREATED_AT, SortOrder.DESC, 2, start)
        seen += [u.id for u in page.items]
        if page.next_position is None:
            break
        start = page.next_position
    assert sorted(seen) == [f"id-{i}" for i in range(5)]
    assert len(seen) == 5


def test_the_session_store_hands_back_expired_sessions_and_updates_only_live_ones() -> (
    None
):
    users = InMemoryUserRepository()
    store = InMemorySessionStore(users)
    old = Session("s1", "u1", T0 - timedelta(days=2), T0 - timedelta(days=1))
    store.add(old)
    assert store.get_with_user("s1", "u1") == (old, None)

    store.extend("gone", T0 + timedelta(hours=1))
    store.move_to_epoch("gone", 3)
    assert store.stored("gone") is None


def test_delete_all_for_user_keeps_the_one_asked_and_counts_the_rest() -> None:
    store = InMemorySessionStore(InMemoryUserRepository())
    for sid, uid in [("a", "u1"), ("b", "u1"), ("c", "u1"), ("d", "u2")]:
        store.add(Session(sid, uid, T0, T0 + timedelta(hours=1)))

    assert store.delete_all_for_user("u1", keep="b") == 2
    assert [s.id for s in store.of_user("u1")] == ["b"]
    assert [s.id for s in store.of_user("u2")] == ["d"]


def test_the_fake_token_expires_by_the_fake_clock() -> None:
    clock = FakeClock(T0)
    codec = FakeTokenCodec(clock)
    token = codec.mint(TokenClaims("s", "u", T0 + timedelta(minutes=1)))
    assert codec.read(token).session_id == "s"
    clock.advance(timedelta(minutes=1))
    with pytest.raises(NotAuthenticated):
        codec.read(token)


def test_the_fake_cursor_is_bound_to_its_scope() -> None:
    codec = FakeCursorCodec()
    cursor = codec.encode({"pk": "x"}, "one")
    assert codec.decode(cursor, "one") == {"pk": "x"}
    with pytest.raises(InvalidCursor):
        codec.decode(cursor, "two")


# -- email work: users by email, removal, unverified listing, link tokens --------------


def test_get_by_email_takes_the_key_and_remove_frees_username_and_email() -> None:
    repo = InMemoryUserRepository()
    stored = repo.add(user("1", "Alice", "Alice@Example.com"))

    assert repo.get_by_email("alice@example.com") == stored
    repo.remove(stored)

    assert repo.get("1") is None
    assert repo.get_by_email("alice@example.com") is None
    repo.add(user("2", "alice", "alice@example.com"))


def test_remove_needs_the_version_it_read() -> None:
    repo = InMemoryUserRepository()
    stored = repo.add(user("1", "alice"))
    repo.save(stored)

    with pytest.raises(ConcurrentUpdate):
        repo.remove(stored)
    assert repo.get("1") is not None


def test_list_unverified_pages_oldest_first_through_unverified_users_only() -> None:
    repo = InMemoryUserRepository()
    for n in range(5):
        repo.add(user(str(n), f"user{n:04d}", created_at=T0 + timedelta(minutes=n)))
    verified = repo.stored("2")
    assert verified is not None
    repo.save(replace(verified, email_verified=True))

    first = repo.list_unverified(T0 + timedelta(minutes=4), 2, None)
    assert first.next_position is not None
    second = repo.list_unverified(T0 + timedelta(minutes=4), 2, first.next_position)

    assert [u.id for u in first.items] == ["0", "1"]
    assert [u.id for u in second.items] == ["3"]
    assert second.next_position is None


def test_a_fake_link_token_is_single_use_purpose_bound_expiring_and_stored_hashed() -> (
    None
):
    tokens = InMemoryOneTimeTokens()
    token = tokens.issue("verify_email", "u1", T0, timedelta(hours=1))

    assert token not in tokens.stored_hashes()
    assert tokens.consume("password_reset", token, T0) is None
    assert tokens.consume("verify_email", token, T0 + timedelta(hours=1)) is None
    assert tokens.consume("verify_email", token, T0) == LinkGrant("u1", 0)
    assert tokens.consume("verify_email", token, T0) is None


# -- tasks: the claim, the lease, the outcome, expiry ------------------------------


def a_task(task_id: str = "t1", expires_in: timedelta = timedelta(days=1)) -> Task:
    return Task(
        id=task_id,
        name="export_users",
        owner_id="u1",
        payload={},
        status=TaskStatus.QUEUED,
        attempts=0,
        created_at=T0,
        updated_at=T0,
        expires_at=T0 + expires_in,
    )


def test_a_fake_task_is_claimed_once_until_its_lease_runs_out() -> None:
    store = InMemoryTaskStore()
    store.add(a_task())
    lease = timedelta(minutes=5)

    first = store.claim("t1", T0, lease)
    assert first is not None
    assert (first.status, first.attempts) == (TaskStatus.RUNNING, 1)
    assert store.claim("t1", T0 + lease, lease) is None
    second = store.claim("t1", T0 + lease + timedelta(seconds=1), lease)
    assert second is not None
    assert second.attempts == 2
    store.finish(second.succeeded({}, T0))
    assert store.claim("t1", T0 + timedelta(hours=1), lease) is None


def test_a_fake_finish_from_an_attempt_that_was_taken_over_changes_nothing() -> None:
    store = InMemoryTaskStore()
    store.add(a_task())
    lease = timedelta(minutes=5)
    stale = store.claim("t1", T0, lease)
    assert stale is not None
    current = store.claim("t1", T0 + 2 * lease, lease)
    assert current is not None

    store.finish(stale.failed("late", T0 + 3 * lease, final=True))

    assert store.stored("t1") == current


def test_a_fake_task_past_its_expiry_is_absent_to_reads_and_claims() -> None:
    clock = FakeClock(T0)
    store = InMemoryTaskStore(clock)
    store.add(a_task(expires_in=timedelta(minutes=1)))
    assert store.get("t1") is not None

    clock.advance(timedelta(minutes=1))

    assert store.get("t1") is None
    assert store.claim("t1", clock.now(), timedelta(minutes=5)) is None
    assert store.stored("t1") is not None


# -- billing: the billing store -------------------------------------------------------


def subscription(sub_id: str, status: SubscriptionStatus) -> Subscription:
    return Subscription(
        id=sub_id,
        status=status,
        price_id="p_month",
        plan_key="pro",
        interval=Interval.MONTH,
        currency="usd",
        item_id="si_1",
        current_period_end=None,
        cancel_at_period_end=False,
        observed_at=T0,
    )


def test_a_fake_event_record_is_refused_as_a_duplicate_and_saves_nothing() -> None:
    users = InMemoryUserRepository()
    store = InMemoryBillingStore(users)
    stored = users.add(user("1", "alice"))

    saved = store.record_event("evt_1", "invoice.paid", T0, T0, stored.activated())
    assert saved is not None
    assert saved.version == 2
    with pytest.raises(DuplicateEvent):
        store.record_event("evt_1", "invoice.paid", T0, T0, saved.deactivated())

    assert users.stored("1") == saved
    assert store.was_processed("evt_1")
    assert users.calls["save"] == 0  # the store's writes are counted as its own


def test_a_fake_event_with_a_stale_user_is_not_recorded() -> None:
    users = InMemoryUserRepository()
    store = InMemoryBillingStore(users)
    stored = users.add(user("1", "alice"))
    users.save(stored)

    with pytest.raises(ConcurrentUpdate):
        store.record_event("evt_1", "invoice.paid", T0, T0, stored)

    assert not store.was_processed("evt_1")


def test_a_fake_customer_belongs_to_the_first_user_who_claims_it() -> None:
    users = InMemoryUserRepository()
    store = InMemoryBillingStore(users)
    alice = users.add(user("1", "alice"))
    bobby = users.add(user("2", "bobby"))

    attached = store.attach_customer(alice, "cus_1")
    with pytest.raises(ConcurrentUpdate):
        store.attach_customer(bobby, "cus_1")
    with pytest.raises(ConcurrentUpdate):
        store.attach_customer(alice, "cus_2")  # stale version: nothing claimed

    assert attached.billing.customer_id == "cus_1"
    assert store.owner_of("cus_1") == "1"
    assert store.owner_of("cus_2") is None
    assert users.stored("2") == bobby


def test_fake_subscribed_users_pages_over_live_subscriptions_only() -> None:
    users = InMemoryUserRepository()
    store = InMemoryBillingStore(users)
    statuses = [
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.CANCELED,
        SubscriptionStatus.PAST_DUE,
        None,
        SubscriptionStatus.TRIALING,
    ]
    for n, status in enumerate(statuses):
        stored = users.add(user(str(n), f"user{n:04d}", created_at=T0 + timedelta(n)))
        if status is not None:
            billing = Billing("cus", subscription(f"sub_{n}", status))
            users.save(stored.with_billing(billing))

    first = store.subscribed_users(2, None)
    assert first.next_position is not None
    second = store.subscribed_users(2, first.next_position)

    assert [u.id for u in first.items] == ["0", "2"]
    assert [u.id for u in second.items] == ["4"]
    assert second.next_position is None
