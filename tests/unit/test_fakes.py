"""The fakes must keep the ports' contracts, or the application tests prove nothing."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta

import pytest

from core.application import ports
from core.application.errors import (
    ConcurrentUpdate,
    EmailTaken,
    InvalidCursor,
    NotAuthenticated,
    UsernameTaken,
)
from core.application.ports import SortOrder, TokenClaims, UserSort
from core.domain.session import Session
from core.domain.user import Email, Role, User, Username
from tests.fakes import (
    FakeClock,
    FakeCursorCodec,
    FakePasswordHasher,
    FakeTokenCodec,
    InMemorySessionStore,
    InMemoryUserRepository,
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
