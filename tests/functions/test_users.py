"""The user-management Lambdas, invoked with HTTP API v2 events.

Who may do what to whom is tested once per layer: the rule, every pair of roles, in
tests/unit/test_authorization.py; every route by every role on every kind of target
in tests/security/test_privileges.py. Here: what each route does when allowed.
"""

from __future__ import annotations

import pytest

from core.domain.user import Role
from tests.functions.conftest import PASSWORD, Api, assert_problem

NEW_PASSWORD = "a brand new passphrase"


def role_of(api: Api, username: str) -> str:
    user = api.container.users.get_by_username(username.lower())
    assert user is not None
    return str(user.role.value)


# -- create ----------------------------------------------------------------------------


def test_an_admin_creates_a_user_and_gets_201_with_the_user(api: Api) -> None:
    admin = api.as_("admin01", Role.ADMIN)

    reply = api.call(
        "create_user",
        json_body={
            "username": "newbie01",
            "email": "newbie@example.com",
            "password": PASSWORD,
        },
        cookies=[admin],
    )

    assert reply.status == 201, reply.text
    body = reply.json()
    assert set(body) == {
        "id",
        "username",
        "email",
        "role",
        "is_active",
        "created_at",
        "email_verified",
    }
    assert body["username"] == "newbie01"
    assert body["role"] == "user"
    assert body["is_active"] is True
    assert api.log_in("newbie01")


def test_a_super_admin_creates_an_admin(api: Api) -> None:
    root = api.as_("root01", Role.SUPER_ADMIN)

    reply = api.call(
        "create_user",
        json_body={
            "username": "admin02",
            "email": "admin02@example.com",
            "password": PASSWORD,
            "role": "admin",
        },
        cookies=[root],
    )

    assert reply.status == 201, reply.text
    assert reply.json()["role"] == "admin"
    assert role_of(api, "admin02") == "admin"


@pytest.mark.parametrize("role", ["super_admin", "owner", ""])
def test_creating_a_user_with_a_role_the_api_does_not_offer_is_a_422(
    api: Api, role: str
) -> None:
    root = api.as_("root01", Role.SUPER_ADMIN)

    reply = api.call(
        "create_user",
        json_body={
            "username": "newbie01",
            "email": "n@example.com",
            "password": PASSWORD,
            "role": role,
        },
        cookies=[root],
    )

    body = assert_problem(reply, 422, "invalid_input")
    assert ["body", "role"] in [error["loc"] for error in body["errors"]]
    assert api.container.users.get_by_username("newbie01") is None


def test_creating_a_user_whose_username_is_taken_is_a_409(api: Api) -> None:
    admin = api.as_("admin01", Role.ADMIN)

    reply = api.call(
        "create_user",
        json_body={
            "username": "ADMIN01",
            "email": "n@example.com",
            "password": PASSWORD,
        },
        cookies=[admin],
    )

    assert_problem(reply, 409, "username_taken")


def test_creating_a_user_without_logging_in_is_a_401(api: Api) -> None:
    reply = api.call(
        "create_user",
        json_body={
            "username": "newbie01",
            "email": "n@example.com",
            "password": PASSWORD,
        },
    )

    assert_problem(reply, 401, "not_authenticated")


# -- list ------------------------------------------------------------------------------


def test_an_admin_pages_through_every_user_by_username(api: Api) -> None:
    admin = api.as_("admin01", Role.ADMIN)
    for name in ("delta01", "Bravo01", "echo01", "charlie01", "alpha01"):
        api.user(name)

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = {"limit": "2", "sort": "username", "order": "asc"}
        if cursor:
            query["cursor"] = cursor
        reply = api.call("list_users", query=query, cookies=[admin])
        assert reply.status == 200, reply.text
        body = reply.json()
        assert set(body) == {"items", "next_cursor"}
        assert len(body["items"]) in (1, 2)
        seen.extend(item["username"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == ["admin01", "alpha01", "Bravo01", "charlie01", "delta01", "echo01"]


def test_listing_users_by_default_shows_the_newest_first(api: Api) -> None:
    admin = api.as_("admin01", Role.ADMIN)
    api.user("second01")
    api.user("third01")

    reply = api.call("list_users", cookies=[admin])

    assert reply.status == 200, reply.text
    body = reply.json()
    assert [item["username"] for item in body["items"]] == [
        "third01",
        "second01",
        "admin01",
    ]
    assert body["next_cursor"] is None
    assert set(body["items"][0]) == {
        "id",
        "username",
        "email",
        "role",
        "is_active",
        "created_at",
        "email_verified",
    }


def first_cursor(api: Api, admin: str, sort: str = "username") -> str:
    reply = api.call(
        "list_users",
        query={"limit": "1", "sort": sort, "order": "asc"},
        cookies=[admin],
    )
    cursor = reply.json()["next_cursor"]
    assert isinstance(cursor, str)
    return cursor


def test_a_tampered_cursor_is_a_422_invalid_cursor(api: Api) -> None:
    admin = api.as_("admin01", Role.ADMIN)
    api.user("other01")
    cursor = first_cursor(api, admin)
    payload, mac = cursor.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")

    for bad in (f"{flipped}.{mac}", "garbage", f"{payload}.", cursor + "x"):
        reply = api.call(
            "list_users",
            query={"limit": "1", "sort": "username", "order": "asc", "cursor": bad},
            cookies=[admin],
        )
        body = assert_problem(reply, 422, "invalid_cursor")
        assert body["errors"][0]["loc"] == ["query", "cursor"]


def test_a_cursor_from_another_sort_or_order_is_a_422_invalid_cursor(api: Api) -> None:
    admin = api.as_("admin01", Role.ADMIN)
    api.user("other01")
    cursor = first_cursor(api, admin)

    for sort, order in (("username", "desc"), ("created_at", "asc")):
        reply = api.call(
            "list_users",
            query={"limit": "1", "sort": sort, "order": order, "cursor": cursor},
            cookies=[admin],
        )
        assert_problem(reply, 422, "invalid_cursor")


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "two"},
        {"sort": "email"},
        {"order": "up"},
    ],
)
def test_a_bad_listing_parameter_is_a_422_invalid_input(
    api: Api, query: dict[str, str]
) -> None:
    admin = api.as_("admin01", Role.ADMIN)

    reply = api.call("list_users", query=query, cookies=[admin])

    body = assert_problem(reply, 422, "invalid_input")
    assert body["errors"][0]["loc"][0] == "query"


# -- change password -------------------------------------------------------------------


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(
    api: Api,
) -> None:
    api.user("alice01")
    here, elsewhere = api.log_in("alice01"), api.log_in("alice01")

    reply = api.call(
        "change_password",
        "/api/v1/users/Alice01/password",
        json_body={"password": NEW_PASSWORD, "current_password": PASSWORD},
        cookies=[here],
    )

    assert reply.status == 204, reply.text
    assert api.call("me", cookies=[here]).status == 200
    assert_problem(api.call("me", cookies=[elsewhere]), 401, "not_authenticated")
    assert api.log_in("alice01", NEW_PASSWORD)
    old = api.call("login", json_body={"username": "alice01", "password": PASSWORD})
    assert_problem(old, 401, "invalid_credentials")


def test_changing_ones_own_password_needs_the_current_one(api: Api) -> None:
    cookie = api.as_("alice01")

    reply = api.call(
        "change_password",
        "/api/v1/users/alice01/password",
        json_body={"password": NEW_PASSWORD},
        cookies=[cookie],
    )

    body = assert_problem(reply, 422, "current_password_required")
    assert body["errors"][0]["loc"] == ["body", "current_password"]


def test_changing_ones_own_password_with_a_wrong_current_one_is_a_403(api: Api) -> None:
    cookie = api.as_("alice01")

    reply = api.call(
        "change_password",
        "/api/v1/users/alice01/password",
        json_body={"password": NEW_PASSWORD, "current_password": "not it at all"},
        cookies=[cookie],
    )

    assert_problem(reply, 403, "wrong_password")
    assert api.log_in("alice01", PASSWORD)


def test_an_admin_sets_a_users_password_and_ends_all_their_sessions(api: Api) -> None:
    admin = api.as_("admin01", Role.ADMIN)
    target = api.as_("alice01")

    reply = api.call(
        "change_password",
        "/api/v1/users/alice01/password",
        json_body={"password": NEW_PASSWORD},
        cookies=[admin],
    )

    assert reply.status == 204, reply.text
    assert_problem(api.call("me", cookies=[target]), 401, "not_authenticated")
    assert api.log_in("alice01", NEW_PASSWORD)
    assert api.call("me", cookies=[admin]).status == 200


def test_setting_a_too_short_password_is_a_422_invalid_password(api: Api) -> None:
    cookie = api.as_("alice01")

    reply = api.call(
        "change_password",
        "/api/v1/users/alice01/password",
        json_body={"password": "short", "current_password": PASSWORD},
        cookies=[cookie],
    )

    assert_problem(reply, 422, "invalid_password")


def test_setting_the_password_of_nobody_is_a_404_user_not_found(api: Api) -> None:
    admin = api.as_("admin01", Role.ADMIN)

    for name in ("nobody01", "x"):
        reply = api.call(
            "change_password",
            f"/api/v1/users/{name}/password",
            json_body={"password": NEW_PASSWORD},
            cookies=[admin],
        )
        assert_problem(reply, 404, "user_not_found")


# -- grant and revoke admin ------------------------------------------------------------


def test_a_super_admin_grants_and_revokes_admin(api: Api) -> None:
    root = api.as_("root01", Role.SUPER_ADMIN)
    api.user("alice01")

    granted = api.call(
        "grant_admin", "/api/v1/users/ALICE01/grant-admin", cookies=[root]
    )
    assert granted.status == 204, granted.text
    assert granted.text == ""
    assert role_of(api, "alice01") == "admin"

    revoked = api.call(
        "revoke_admin", "/api/v1/users/alice01/revoke-admin", cookies=[root]
    )
    assert revoked.status == 204, revoked.text
    assert role_of(api, "alice01") == "user"


def test_granting_admin_twice_changes_nothing_the_second_time(api: Api) -> None:
    root = api.as_("root01", Role.SUPER_ADMIN)
    api.user("alice01", Role.ADMIN)
    before = api.container.users.get_by_username("alice01")

    reply = api.call("grant_admin", "/api/v1/users/alice01/grant-admin", cookies=[root])

    assert reply.status == 204, reply.text
    assert api.container.users.get_by_username("alice01") == before


def test_granting_admin_to_nobody_is_a_404(api: Api) -> None:
    root = api.as_("root01", Role.SUPER_ADMIN)

    reply = api.call(
        "grant_admin", "/api/v1/users/nobody01/grant-admin", cookies=[root]
    )

    assert_problem(reply, 404, "user_not_found")


# -- activate and deactivate -----------------------------------------------------------


def test_deactivating_a_user_ends_their_sessions_and_stops_their_log_ins(
    api: Api,
) -> None:
    admin = api.as_("admin01", Role.ADMIN)
    target = api.as_("alice01")

    reply = api.call(
        "deactivate_user", "/api/v1/users/alice01/deactivate", cookies=[admin]
    )

    assert reply.status == 204, reply.text
    assert_problem(api.call("me", cookies=[target]), 401, "not_authenticated")
    again = api.call("login", json_body={"username": "alice01", "password": PASSWORD})
    assert_problem(again, 403, "account_inactive")


def test_activating_a_deactivated_user_lets_them_log_in_again(api: Api) -> None:
    admin = api.as_("admin01", Role.ADMIN)
    api.user("alice01")
    api.call("deactivate_user", "/api/v1/users/alice01/deactivate", cookies=[admin])

    reply = api.call("activate_user", "/api/v1/users/alice01/activate", cookies=[admin])

    assert reply.status == 204, reply.text
    assert api.log_in("alice01")


def test_deactivating_nobody_is_a_404(api: Api) -> None:
    admin = api.as_("admin01", Role.ADMIN)

    reply = api.call(
        "deactivate_user", "/api/v1/users/nobody01/deactivate", cookies=[admin]
    )

    assert_problem(reply, 404, "user_not_found")
