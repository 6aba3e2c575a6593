"""Sessions cannot be fixed, and end when they should."""

from __future__ import annotations

from core.domain.user import Role
from tests.functions.conftest import PASSWORD
from tests.security.conftest import Api, assert_problem


def session_id(api: Api, cookie: str) -> str:
    return api.container.tokens.read(cookie.split("=", 1)[1]).session_id


def test_every_log_in_makes_a_new_session_id(api: Api) -> None:
    api.user("alice001")
    seen = set()
    for _ in range(3):
        cookie = api.log_in("alice001")
        seen.add(session_id(api, cookie))
        assert api.call("logout", cookies=[cookie]).status == 204
    assert len(seen) == 3


def test_a_planted_cookie_is_never_adopted_by_log_in(api: Api) -> None:
    api.user("alice001")
    planted = "access_token=attacker-chosen-value"

    reply = api.call(
        "login",
        json_body={"username": "alice001", "password": PASSWORD},
        cookies=[planted],
    )

    assert reply.status == 204
    issued = reply.cookie("access_token")
    assert issued
    assert issued != "attacker-chosen-value"


def test_logout_makes_the_old_cookie_useless(api: Api) -> None:
    cookie = api.as_("alice001")
    assert api.call("logout", cookies=[cookie]).status == 204

    assert_problem(api.call("me", cookies=[cookie]), 401, "not_authenticated")
    assert_problem(api.call("logout", cookies=[cookie]), 401, "not_authenticated")


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(
    api: Api,
) -> None:
    api.user("alice001")
    laptop, phone = api.log_in("alice001"), api.log_in("alice001")

    reply = api.call(
        "change_password",
        "/api/v1/users/alice001/password",
        json_body={"current_password": PASSWORD, "password": "a brand new one"},
        cookies=[laptop],
    )

    assert reply.status == 204
    assert api.call("me", cookies=[laptop]).status == 200
    assert_problem(api.call("me", cookies=[phone]), 401, "not_authenticated")


def test_an_admin_setting_a_password_ends_all_of_that_users_sessions(
    api: Api,
) -> None:
    admin = api.as_("admin001", Role.ADMIN)
    api.user("alice001")
    victim_sessions = [api.log_in("alice001") for _ in range(2)]

    reply = api.call(
        "change_password",
        "/api/v1/users/alice001/password",
        json_body={"password": "set by the admin"},
        cookies=[admin],
    )

    assert reply.status == 204
    for cookie in victim_sessions:
        assert_problem(api.call("me", cookies=[cookie]), 401, "not_authenticated")


def test_deactivation_ends_every_session_and_blocks_log_in(api: Api) -> None:
    admin = api.as_("admin001", Role.ADMIN)
    api.user("alice001")
    sessions = [api.log_in("alice001") for _ in range(3)]

    reply = api.call(
        "deactivate_user", "/api/v1/users/alice001/deactivate", cookies=[admin]
    )

    assert reply.status == 204
    for cookie in sessions:
        assert_problem(api.call("me", cookies=[cookie]), 401, "not_authenticated")
    again = api.call("login", json_body={"username": "alice001", "password": PASSWORD})
    assert_problem(again, 403, "account_inactive")
