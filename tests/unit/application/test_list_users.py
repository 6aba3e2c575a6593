from __future__ import annotations

from datetime import timedelta

import pytest

from core.application.errors import (
    InvalidCursor,
    InvalidPageRequest,
    PermissionDenied,
)
from core.application.ports import SortOrder, UserSort
from core.application.queries.list_users import MAX_PAGE, ListUsers
from core.domain.user import Role, User
from tests.fakes import FakeClock, FakeCursorCodec, InMemoryUserRepository
from tests.unit.application.conftest import Seed

# Created in this order, a minute apart; by username they sort differently.
NAMES = ["mike1", "Alpha", "zulu9", "bravo", "Kilo.x", "charlie", "delta_d"]


@pytest.fixture
def list_users(users: InMemoryUserRepository, cursors: FakeCursorCodec) -> ListUsers:
    return ListUsers(users, cursors)


@pytest.fixture
def population(seed: Seed, clock: FakeClock) -> list[User]:
    people = []
    for name in NAMES:
        role = Role.SUPER_ADMIN if name == "mike1" else Role.USER
        people.append(seed(name, role))
        clock.advance(timedelta(minutes=1))
    return people


def read_all(
    list_users: ListUsers, actor: User, sort: UserSort, order: SortOrder, limit: int
) -> tuple[list[User], int]:
    seen: list[User] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = list_users.execute(actor, sort, order, limit, cursor)
        pages += 1
        assert len(page.items) <= limit
        seen.extend(page.items)
        if page.next_cursor is None:
            return seen, pages
        assert pages < 100, "the cursors never end"
        cursor = page.next_cursor


@pytest.mark.parametrize("sort", list(UserSort))
@pytest.mark.parametrize("order", list(SortOrder))
@pytest.mark.parametrize("limit", [1, 3, 7, 100])
def test_paging_with_cursors_yields_every_user_exactly_once_in_order(
    list_users: ListUsers,
    population: list[User],
    sort: UserSort,
    order: SortOrder,
    limit: int,
) -> None:
    if sort is UserSort.USERNAME:
        expected = sorted(population, key=lambda u: u.username.key)
    else:
        expected = sorted(population, key=lambda u: u.created_at)
    if order is SortOrder.DESC:
        expected.reverse()

    seen, pages = read_all(list_users, population[0], sort, order, limit)

    assert [u.id for u in seen] == [u.id for u in expected]
    assert pages == -(-len(population) // limit)


def test_the_last_full_page_carries_no_cursor_to_an_empty_one(
    list_users: ListUsers, population: list[User]
) -> None:
    first = list_users.execute(
        population[0], UserSort.USERNAME, SortOrder.ASC, len(population), None
    )
    assert len(first.items) == len(population)
    assert first.next_cursor is None


def test_an_admin_sees_the_users_sorted_by_username_ignoring_case(
    list_users: ListUsers, population: list[User]
) -> None:
    page = list_users.execute(population[0], UserSort.USERNAME, SortOrder.ASC, 3, None)
    assert [u.username.value for u in page.items] == ["Alpha", "bravo", "charlie"]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPER_ADMIN])
def test_admins_may_list_users(list_users: ListUsers, seed: Seed, role: Role) -> None:
    admin = seed("admin1", role)
    page = list_users.execute(admin, UserSort.USERNAME, SortOrder.ASC, 10, None)
    assert [u.id for u in page.items] == [admin.id]


def test_a_plain_user_may_not_list_users(
    list_users: ListUsers, seed: Seed, users: InMemoryUserRepository
) -> None:
    plain = seed("plain")

    with pytest.raises(PermissionDenied):
        list_users.execute(plain, UserSort.USERNAME, SortOrder.ASC, 10, None)

    assert users.calls["list_page"] == 0


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        (UserSort.CREATED_AT, SortOrder.ASC),
        (UserSort.USERNAME, SortOrder.DESC),
        (UserSort.CREATED_AT, SortOrder.DESC),
    ],
)
def test_a_cursor_from_another_sort_or_order_is_refused(
    list_users: ListUsers,
    population: list[User],
    users: InMemoryUserRepository,
    sort: UserSort,
    order: SortOrder,
) -> None:
    admin = population[0]
    first = list_users.execute(admin, UserSort.USERNAME, SortOrder.ASC, 2, None)
    assert first.next_cursor is not None
    users.calls.clear()

    with pytest.raises(InvalidCursor):
        list_users.execute(admin, sort, order, 2, first.next_cursor)

    assert users.calls["list_page"] == 0


@pytest.mark.parametrize("cursor", ["garbage", "cursor-999", "cursor-1x"])
def test_a_cursor_we_did_not_make_is_refused(
    list_users: ListUsers, population: list[User], cursor: str
) -> None:
    list_users.execute(population[0], UserSort.USERNAME, SortOrder.ASC, 2, None)

    with pytest.raises(InvalidCursor):
        list_users.execute(population[0], UserSort.USERNAME, SortOrder.ASC, 2, cursor)


@pytest.mark.parametrize("limit", [-1, 0, MAX_PAGE + 1, 10_000])
def test_a_limit_outside_1_to_100_is_refused(
    list_users: ListUsers,
    population: list[User],
    users: InMemoryUserRepository,
    limit: int,
) -> None:
    with pytest.raises(InvalidPageRequest):
        list_users.execute(population[0], UserSort.USERNAME, SortOrder.ASC, limit, None)

    assert users.calls["list_page"] == 0


@pytest.mark.parametrize("limit", [1, MAX_PAGE])
def test_the_limits_1_and_100_are_accepted(
    list_users: ListUsers, population: list[User], limit: int
) -> None:
    page = list_users.execute(
        population[0], UserSort.USERNAME, SortOrder.ASC, limit, None
    )
    assert len(page.items) == min(limit, len(population))
