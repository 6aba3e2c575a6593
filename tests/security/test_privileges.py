"""Every admin route, by every role, against every kind of target.

The expected outcomes are the role rules themselves, written out by hand, not derived
from the code under test: a super admin manages admins and users, an admin manages
users, nobody manages a super admin, nobody manages themselves through the admin
routes, only a super admin grants or revokes admin.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.domain.user import Role
from tests.functions.conftest import PASSWORD
from tests.security.conftest import Api, assert_problem

ACTORS = ("user", "admin", "super_admin")
TARGETS = ("user", "admin", "super_admin", "self")

OK, NO = "ok", "forbidden"

# route -> actor -> target -> outcome
TARGETED: dict[str, dict[str, dict[str, str]]] = {
    "grant_admin": {
        "user": {"user": NO, "admin": NO, "super_admin": NO, "self": NO},
        "admin": {"user": NO, "admin": NO, "super_admin": NO, "self": NO},
        "super_admin": {"user": OK, "admin": OK, "super_admin": NO, "self": NO},
    },
    "revoke_admin": {
        "user": {"user": NO, "admin": NO, "super_admin": NO, "self": NO},
        "admin": {"user": NO, "admin": NO, "super_admin": NO, "self": NO},
        "super_admin": {"user": OK, "admin": OK, "super_admin": NO, "self": NO},
    },
    "activate_user": {
        "user": {"user": NO, "admin": NO, "super_admin": NO, "self": NO},
        "admin": {"user": OK, "admin": NO, "super_admin": NO, "self": NO},
        "super_admin": {"user": OK, "admin": OK, "super_admin": NO, "self": NO},
    },
    "deactivate_user": {
        "user": {"user": NO, "admin": NO, "super_admin": NO, "self": NO},
        "admin": {"user": OK, "admin": NO, "super_admin": NO, "self": NO},
        "super_admin": {"user": OK, "admin": OK, "super_admin": NO, "self": NO},
    },
    # Setting another's password without knowing it; one's own is the self route.
    "change_password": {
        "user": {"user": NO, "admin": NO, "super_admin": NO},
        "admin": {"user": OK, "admin": NO, "super_admin": NO},
        "super_admin": {"user": OK, "admin": OK, "super_admin": NO},
    },
}

SEGMENT = {
    "grant_admin": "grant-admin",
    "revoke_admin": "revoke-admin",
    "activate_user": "activate",
    "deactivate_user": "deactivate",
    "change_password": "password",
}

CASES = [
    (route, actor, target, outcome)
    for route, table in TARGETED.items()
    for actor, row in table.items()
    for target, outcome in row.items()
]


def test_the_table_covers_every_route_actor_and_target() -> None:
    for route, table in TARGETED.items():
        assert set(table) == set(ACTORS)
        for row in table.values():
            wanted = set(TARGETS) - ({"self"} if route == "change_password" else set())
            assert set(row) == wanted


@pytest.mark.parametrize(
    ("route", "actor", "target", "outcome"),
    CASES,
    ids=[f"{r}-{a}-on-{t}" for r, a, t, _ in CASES],
)
def test_admin_routes_follow_the_rule_table(
    api: Api, route: str, actor: str, target: str, outcome: str
) -> None:
    cookie = api.as_("actor001", Role(actor))
    name = "actor001" if target == "self" else "target01"
    if target != "self":
        api.user(name, Role(target))
    body: dict[str, Any] | None = (
        {"password": "set by someone else"} if route == "change_password" else None
    )
    before = api.container.users.get_by_username(name)

    reply = api.call(
        route,
        f"/api/v1/users/{name}/{SEGMENT[route]}",
        json_body=body,
        cookies=[cookie],
    )

    if outcome == OK:
        assert reply.status == 204, reply.text
    else:
        assert_problem(reply, 403, "forbidden")
        assert api.container.users.get_by_username(name) == before


@pytest.mark.parametrize(
    ("actor", "role", "status"),
    [
        ("user", "user", 403),
        ("user", "admin", 403),
        ("admin", "user", 201),
        ("admin", "admin", 403),
        ("super_admin", "user", 201),
        ("super_admin", "admin", 201),
    ],
)
def test_creating_users_follows_the_rule_table(
    api: Api, actor: str, role: str, status: int
) -> None:
    cookie = api.as_("actor001", Role(actor))
    body = {
        "username": "created1",
        "email": "created1@example.com",
        "password": PASSWORD,
        "role": role,
    }

    reply = api.call("create_user", json_body=body, cookies=[cookie])

    if status == 201:
        assert reply.status == 201, reply.text
        assert reply.json()["role"] == role
    else:
        assert_problem(reply, 403, "forbidden")
        assert api.container.users.get_by_username("created1") is None


def test_nobody_creates_a_super_admin_through_the_api(api: Api) -> None:
    cookie = api.as_("actor001", Role.SUPER_ADMIN)
    body = {
        "username": "created1",
        "email": "created1@example.com",
        "password": PASSWORD,
        "role": "super_admin",
    }

    assert_problem(
        api.call("create_user", json_body=body, cookies=[cookie]), 422, "invalid_input"
    )
    assert api.container.users.get_by_username("created1") is None


@pytest.mark.parametrize(
    ("actor", "status"), [("user", 403), ("admin", 200), ("super_admin", 200)]
)
def test_listing_users_is_for_admins(api: Api, actor: str, status: int) -> None:
    cookie = api.as_("actor001", Role(actor))

    reply = api.call("list_users", cookies=[cookie])

    if status == 200:
        assert reply.status == 200
    else:
        assert_problem(reply, 403, "forbidden")


def test_an_admin_demoted_meanwhile_loses_the_rights_at_once(api: Api) -> None:
    root = api.as_("root0001", Role.SUPER_ADMIN)
    admin = api.as_("admin001", Role.ADMIN)
    api.user("target01")
    revoked = api.call(
        "revoke_admin", "/api/v1/users/admin001/revoke-admin", cookies=[root]
    )
    assert revoked.status == 204

    reply = api.call(
        "deactivate_user", "/api/v1/users/target01/deactivate", cookies=[admin]
    )

    assert_problem(reply, 403, "forbidden")
