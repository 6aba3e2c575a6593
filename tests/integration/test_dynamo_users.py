"""``DynamoUserRepository`` against moto: uniqueness, atomicity, versions, listing."""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from core.adapters.dynamodb.models import (
    UserItem,
    dynamodb_client,
    email_marker_key,
    user_key,
    username_marker_key,
)
from core.adapters.dynamodb.users import DynamoUserRepository
from core.application.errors import (
    ConcurrentUpdate,
    EmailTaken,
    InvalidCursor,
    UsernameTaken,
)
from core.application.ports import SortOrder, UserSort, UserSummary
from core.domain.user import Role, User
from tests.integration.conftest import EPOCH, MakeUser

RACE_ROUNDS = 8


def stored_item(pk: str) -> dict[str, Any] | None:
    """The raw item with key ``pk`` in the users table, read past every adapter."""
    client = dynamodb_client()
    response = client.get_item(
        TableName=UserItem.Meta.table_name,
        Key={"pk": {"S": pk}},
        ConsistentRead=True,
    )
    item: dict[str, Any] | None = response.get("Item")
    return item


def users_table_size() -> int:
    client = dynamodb_client()
    return int(client.scan(TableName=UserItem.Meta.table_name, Select="COUNT")["Count"])


# -- add, get, get_by_username ---------------------------------------------------------


def test_an_added_user_reads_back_by_id_equal_to_what_was_stored(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    user = make_user("Alice.Smith", "Alice@Example.com", role=Role.ADMIN)
    users.add(user)

    found = users.get(user.id)

    assert found == replace(user, version=1)


def test_a_user_is_found_by_username_in_any_case(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    user = make_user("Alice.Smith")
    users.add(user)

    for spelling in ("alice.smith", "ALICE.SMITH", "Alice.Smith"):
        found = users.get_by_username(spelling.lower())
        assert found is not None
        assert found.id == user.id
        assert found.username.value == "Alice.Smith"


def test_unknown_ids_and_usernames_find_nobody(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    users.add(make_user("present1"))

    assert users.get("no-such-id") is None
    assert users.get_by_username("absent1") is None


def test_a_username_is_taken_whatever_its_case(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    users.add(make_user("Alice.Smith", "first@example.com"))

    with pytest.raises(UsernameTaken):
        users.add(make_user("aLICE.sMITH", "second@example.com"))


def test_an_email_is_taken_whatever_its_case(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    users.add(make_user("first01", "Alice@Example.com"))

    with pytest.raises(EmailTaken):
        users.add(make_user("second01", "alice@EXAMPLE.COM"))


# -- atomic uniqueness -----------------------------------------------------------------


def race(users: DynamoUserRepository, rivals: list[User]) -> dict[str, str]:
    """Add every rival at once, one thread each; user id -> what happened."""
    barrier = threading.Barrier(len(rivals))
    outcomes: dict[str, str] = {}

    def sign_up(user: User) -> None:
        barrier.wait()
        try:
            users.add(user)
        except UsernameTaken:
            outcomes[user.id] = "taken"
        except ConcurrentUpdate:
            outcomes[user.id] = "conflict"
        except Exception as exc:  # any other outcome fails the caller's assertion
            outcomes[user.id] = repr(exc)
        else:
            outcomes[user.id] = "added"

    threads = [threading.Thread(target=sign_up, args=(user,)) for user in rivals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_of_two_concurrent_sign_ups_with_one_username_exactly_one_wins(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    """Real concurrency against moto, whose DynamoDB writes the test server isolates
    as DynamoDB does (``local.stack.isolate_dynamodb_writes``: on its own, moto 5.2
    can pass both transactions' conditions, or erase the winner's writes while
    rolling the loser back). One rival is added, the other refused as taken (or,
    on DynamoDB, as a conflict: the next test); nothing of the loser is stored."""
    for round_ in range(RACE_ROUNDS):
        name = f"racer{round_:03d}"
        rivals = [
            make_user(
                name if i == 0 else name.upper(), f"rival{round_}.{i}@example.com"
            )
            for i in range(2)
        ]
        outcomes = race(users, rivals)

        assert sorted(outcomes.values()) in (
            ["added", "taken"],
            ["added", "conflict"],
        ), f"round {round_}: {outcomes}"
        (winner,) = (u for u in rivals if outcomes[u.id] == "added")
        (loser,) = (u for u in rivals if outcomes[u.id] != "added")
        marker = stored_item(username_marker_key(name))
        assert marker is not None
        assert marker["user_id"] == {"S": winner.id}
        assert stored_item(user_key(winner.id)) is not None
        assert stored_item(user_key(loser.id)) is None
        assert stored_item(email_marker_key(loser.email.key)) is None

    # Per round: one user item, one username marker, one email marker; nothing else.
    assert users_table_size() == 3 * RACE_ROUNDS


def test_a_sign_up_whose_transaction_meets_another_in_flight_is_a_conflict(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    """Real DynamoDB, unlike moto, cancels a transaction that touches an item
    another transaction is writing, with the reason ``TransactionConflict``: the
    loser of a sign-up race then gets a conflict (409), not an outage (503)."""
    from botocore.stub import Stubber

    client = dynamodb_client()
    reasons = [{"Code": "TransactionConflict"}, {"Code": "None"}, {"Code": "None"}]
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            service_message="Transaction cancelled, please refer cancellation "
            "reasons for specific reasons [TransactionConflict, None, None]",
            http_status_code=400,
            modeled_fields={"CancellationReasons": reasons},
        )
        with pytest.raises(ConcurrentUpdate):
            users.add(make_user("conflicted1"))
        stubber.assert_no_pending_responses()


def test_a_sign_up_refused_for_its_email_leaves_no_username_marker_and_no_user(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    first = make_user("first01", "shared@example.com")
    users.add(first)
    loser = make_user("second01", "Shared@Example.com")

    with pytest.raises(EmailTaken):
        users.add(loser)

    assert stored_item(username_marker_key("second01")) is None
    assert stored_item(user_key(loser.id)) is None
    email_marker = stored_item(email_marker_key("shared@example.com"))
    assert email_marker is not None
    assert email_marker["user_id"] == {"S": first.id}
    assert users_table_size() == 3
    assert users.get_by_username("second01") is None


def test_a_sign_up_refused_for_its_username_leaves_no_email_marker_and_no_user(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    first = make_user("first01", "first@example.com")
    users.add(first)
    loser = make_user("FIRST01", "other@example.com")

    with pytest.raises(UsernameTaken):
        users.add(loser)

    assert stored_item(email_marker_key("other@example.com")) is None
    assert stored_item(user_key(loser.id)) is None
    assert users_table_size() == 3


# -- versions --------------------------------------------------------------------------


def test_save_stores_the_change_and_returns_the_next_version(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    user = make_user("changing1")
    users.add(user)
    loaded = users.get(user.id)
    assert loaded is not None

    saved = users.save(loaded.with_role(Role.ADMIN))

    assert saved.version == loaded.version + 1
    assert users.get(user.id) == saved
    assert users.save(saved.deactivated()).version == saved.version + 1


def test_save_with_a_stale_version_is_refused_and_changes_nothing(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    user = make_user("contested1")
    users.add(user)
    first_read = users.get(user.id)
    second_read = users.get(user.id)
    assert first_read is not None
    assert second_read is not None
    winner = users.save(first_read.with_role(Role.ADMIN))

    with pytest.raises(ConcurrentUpdate):
        users.save(second_read.deactivated())

    assert users.get(user.id) == winner
    assert winner.is_active


def test_saving_a_never_stored_user_as_an_update_is_refused(
    users: DynamoUserRepository, make_user: MakeUser
) -> None:
    ghost = replace(make_user("ghost01"), version=3)

    with pytest.raises(ConcurrentUpdate):
        users.save(ghost)

    assert users.get(ghost.id) is None


# -- listing ---------------------------------------------------------------------------

# Usernames deliberately out of creation order, with mixed case.
LISTED_NAMES = ["mike01", "Alpha01", "zulu01", "echo01", "Bravo01", "kilo01", "delta01"]


@pytest.fixture
def listed(users: DynamoUserRepository, make_user: MakeUser) -> list[User]:
    created = [
        make_user(name, created_at=EPOCH + timedelta(minutes=i))
        for i, name in enumerate(LISTED_NAMES)
    ]
    for user in created:
        users.add(user)
    return created


def expected_order(listed: list[User], sort: UserSort, order: SortOrder) -> list[str]:
    key = (
        (lambda u: u.username.key)
        if sort is UserSort.USERNAME
        else (lambda u: u.created_at)
    )
    ordered = sorted(listed, key=key, reverse=order is SortOrder.DESC)
    return [user.id for user in ordered]


@pytest.mark.parametrize("limit", [1, 2, 3])
@pytest.mark.parametrize("order", list(SortOrder))
@pytest.mark.parametrize("sort", list(UserSort))
def test_paging_visits_every_user_once_in_order_and_ends_without_an_empty_page(
    users: DynamoUserRepository,
    listed: list[User],
    sort: UserSort,
    order: SortOrder,
    limit: int,
) -> None:
    seen: list[str] = []
    sizes: list[int] = []
    position = None
    for _ in range(len(listed) + 2):
        page = users.list_page(sort, order, limit, position)
        seen.extend(user.id for user in page.items)
        sizes.append(len(page.items))
        position = page.next_position
        if position is None:
            break

    assert position is None
    assert seen == expected_order(listed, sort, order)
    pages = math.ceil(len(listed) / limit)
    assert sizes == [limit] * (pages - 1) + [len(listed) - limit * (pages - 1)]


def test_a_page_holds_the_users_summaries_and_no_uniqueness_markers(
    users: DynamoUserRepository, listed: list[User]
) -> None:
    page = users.list_page(UserSort.USERNAME, SortOrder.ASC, 100, None)

    assert page.next_position is None
    assert sorted(page.items, key=lambda u: u.id) == sorted(
        (UserSummary.of(u) for u in listed), key=lambda u: u.id
    )


def test_an_empty_table_lists_one_empty_last_page(users: DynamoUserRepository) -> None:
    page = users.list_page(UserSort.CREATED_AT, SortOrder.DESC, 3, None)

    assert list(page.items) == []
    assert page.next_position is None


@pytest.mark.parametrize(
    ("sort", "position"),
    [
        pytest.param(UserSort.USERNAME, {}, id="empty"),
        pytest.param(UserSort.USERNAME, {"pk": "USER#user000001"}, id="no-range-key"),
        pytest.param(
            UserSort.USERNAME,
            {"pk": "USER#user000001", "username_lower": "x", "extra": "y"},
            id="extra-key",
        ),
        pytest.param(
            UserSort.CREATED_AT,
            {"pk": "USER#user000001", "username_lower": "alpha01"},
            id="other-index",
        ),
        pytest.param(
            UserSort.USERNAME,
            {"pk": "USERNAME#alpha01", "username_lower": "alpha01"},
            id="marker-key",
        ),
        pytest.param(
            UserSort.USERNAME,
            {"pk": "USER#user000001", "username_lower": 7},
            id="not-a-string",
        ),
    ],
)
def test_a_position_of_the_wrong_shape_is_an_invalid_cursor(
    users: DynamoUserRepository,
    listed: list[User],
    sort: UserSort,
    position: dict[str, Any],
) -> None:
    with pytest.raises(InvalidCursor):
        users.list_page(sort, SortOrder.ASC, 2, position)


def test_every_model_uses_one_dynamodb_client(tables: None) -> None:
    from core.adapters.dynamodb.models import dynamodb_clients

    assert len(dynamodb_clients()) == 1
