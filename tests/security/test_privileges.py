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


# -- organizations ---------------------------------------------------------------------
#
# Roles inside an organization are its own (owner, admin, member), apart from the
# platform's: owners manage everyone, admins manage members and invitations but not
# owners or other admins, members read. To a non-member the organization does not
# exist: 404, never a 403 that would confirm it does.

ORG_ACTORS = ("owner", "admin", "member", "stranger")
NOT_FOUND = "not_found"
HIDDEN = {"stranger": NOT_FOUND}

# route -> actor's role in the organization -> outcome (a route without a target)
ORG_ROUTES: dict[str, dict[str, str]] = {
    "get_organization": {"owner": OK, "admin": OK, "member": OK, **HIDDEN},
    "list_members": {"owner": OK, "admin": OK, "member": OK, **HIDDEN},
    "rename_organization": {"owner": OK, "admin": OK, "member": NO, **HIDDEN},
    "list_invitations": {"owner": OK, "admin": OK, "member": NO, **HIDDEN},
    "invite_member": {"owner": OK, "admin": OK, "member": NO, **HIDDEN},
    "read_audit_log": {"owner": OK, "admin": OK, "member": NO, **HIDDEN},
    "transfer_ownership": {"owner": OK, "admin": NO, "member": NO, **HIDDEN},
    "delete_organization": {"owner": OK, "admin": NO, "member": NO, **HIDDEN},
}
# The plan an organization needs for a route behind an organization feature: the
# table is about roles, so its organization has it (the 402 is tested in
# tests/functions/test_orgs.py).
ORG_PLAN_NEEDED = {"read_audit_log": "team"}
# Removing another member, by the role of the one removed.
ORG_REMOVAL: dict[str, dict[str, str]] = {
    "owner": {"owner": OK, "admin": OK, "member": OK},
    "admin": {"owner": NO, "admin": NO, "member": OK},
    "member": {"owner": NO, "admin": NO, "member": NO},
    "stranger": {"owner": NOT_FOUND, "admin": NOT_FOUND, "member": NOT_FOUND},
}


def an_org_of_every_role(api: Api) -> tuple[str, dict[str, str]]:
    """An organization with an owner, an admin and a member acting (and one more
    of each role as targets), and a stranger: the organization's id and each
    actor's cookie."""
    from tests.functions.test_orgs import create, join

    owner = api.as_("owner001")
    org_id = create(api, owner)
    api.container.orgs.set_seat_limit(org_id, 10)
    cookies = {"owner": owner}
    for role in ("admin", "member"):
        cookies[role] = join(api, owner, org_id, f"{role}001", role)
    for role in ("owner", "admin", "member"):
        join(api, owner, org_id, f"{role}002", role)
    cookies["stranger"] = api.as_("stranger1")
    return org_id, cookies


def an_org_request(api: Api, route: str, org_id: str) -> tuple[str, Any, int]:
    """The path, body and success status of ``route`` on ``org_id``."""
    org = f"/api/v1/orgs/{org_id}"
    target = api.container.users.get_by_username("member002").id
    return {
        "get_organization": (org, None, 200),
        "list_members": (f"{org}/members", None, 200),
        "rename_organization": (org, {"name": "Renamed"}, 200),
        "list_invitations": (f"{org}/invitations", None, 200),
        "invite_member": (f"{org}/invitations", {"email": "new@example.com"}, 202),
        "read_audit_log": (f"{org}/audit-log", None, 200),
        "transfer_ownership": (f"{org}/transfer-ownership", {"user_id": target}, 204),
        "delete_organization": (org, None, 204),
    }[route]


def test_the_org_tables_cover_every_route_actor_and_target() -> None:
    for row in ORG_ROUTES.values():
        assert set(row) == set(ORG_ACTORS)
    assert set(ORG_REMOVAL) == set(ORG_ACTORS)
    for targets in ORG_REMOVAL.values():
        assert set(targets) == {"owner", "admin", "member"}


@pytest.mark.parametrize(
    ("route", "actor", "outcome"),
    [(r, a, o) for r, row in ORG_ROUTES.items() for a, o in row.items()],
)
def test_org_routes_follow_the_rule_table(
    api: Api, route: str, actor: str, outcome: str
) -> None:
    org_id, cookies = an_org_of_every_role(api)
    if route in ORG_PLAN_NEEDED:
        api.subscribe_org(org_id, ORG_PLAN_NEEDED[route])
    path, body, success = an_org_request(api, route, org_id)
    before = api.container.orgs.get(org_id)

    reply = api.call(route, path, json_body=body, cookies=[cookies[actor]])

    if outcome == OK:
        assert reply.status == success, reply.text
        return
    if outcome == NOT_FOUND:
        assert_problem(reply, 404, "organization_not_found")
    else:
        assert_problem(reply, 403, "forbidden")
    assert api.container.orgs.get(org_id) == before


@pytest.mark.parametrize(
    ("actor", "target", "outcome"),
    [(a, t, o) for a, row in ORG_REMOVAL.items() for t, o in row.items()],
)
def test_removing_a_member_follows_the_rule_table(
    api: Api, actor: str, target: str, outcome: str
) -> None:
    org_id, cookies = an_org_of_every_role(api)
    target_id = api.container.users.get_by_username(f"{target}002").id

    reply = api.call(
        "remove_member",
        f"/api/v1/orgs/{org_id}/members/{target_id}",
        cookies=[cookies[actor]],
    )

    members = {
        m.user_id for m in api.container.orgs.list_members(org_id, 20, None).items
    }
    if outcome == OK:
        assert reply.status == 204, reply.text
        assert target_id not in members
        return
    if outcome == NOT_FOUND:
        assert_problem(reply, 404, "organization_not_found")
    else:
        assert_problem(reply, 403, "forbidden")
    assert target_id in members
