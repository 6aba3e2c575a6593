"""Who may do what in an organization: every role x every action x every target
role, against one table written out by hand from the issue's rules."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.application.authorization import (
    can_change_org_role,
    can_delete_org,
    can_invite,
    can_manage_org_billing,
    can_read_audit_log,
    can_read_org,
    can_remove_member,
    can_rename_org,
    can_transfer_ownership,
)
from core.domain.organization import OrgRole

OWNER, ADMIN, MEMBER = OrgRole.OWNER, OrgRole.ADMIN, OrgRole.MEMBER
EVERYONE = frozenset(OrgRole)
NOBODY: frozenset[OrgRole] = frozenset()

# action -> the rule, asked of (acting role, target role). For the actions on the
# organization itself the target plays no part: the table says so by allowing all
# targets or none. ``invite`` and ``revoke_invitation`` target the invited role.
ACTIONS: dict[str, Callable[[OrgRole, OrgRole], bool]] = {
    "read": lambda actor, _: can_read_org(actor),
    "rename": lambda actor, _: can_rename_org(actor),
    "manage_billing": lambda actor, _: can_manage_org_billing(actor),
    "read_audit_log": lambda actor, _: can_read_audit_log(actor),
    "delete": lambda actor, _: can_delete_org(actor),
    "transfer_ownership": lambda actor, _: can_transfer_ownership(actor),
    "invite": can_invite,
    "revoke_invitation": can_invite,
    "make_owner": lambda actor, target: can_change_org_role(actor, target, OWNER),
    "make_admin": lambda actor, target: can_change_org_role(actor, target, ADMIN),
    "make_member": lambda actor, target: can_change_org_role(actor, target, MEMBER),
    "remove": lambda actor, target: can_remove_member(actor, target, itself=False),
    "leave": lambda actor, target: can_remove_member(actor, target, itself=True),
}

# (acting role, action) -> the target roles it is allowed on.
ALLOWED: dict[tuple[OrgRole, str], frozenset[OrgRole]] = {
    (OWNER, "read"): EVERYONE,
    (OWNER, "rename"): EVERYONE,
    (OWNER, "manage_billing"): EVERYONE,
    (OWNER, "read_audit_log"): EVERYONE,
    (OWNER, "delete"): EVERYONE,
    (OWNER, "transfer_ownership"): EVERYONE,
    (OWNER, "invite"): EVERYONE,
    (OWNER, "revoke_invitation"): EVERYONE,
    (OWNER, "make_owner"): EVERYONE,
    (OWNER, "make_admin"): EVERYONE,
    (OWNER, "make_member"): EVERYONE,
    (OWNER, "remove"): EVERYONE,
    (OWNER, "leave"): EVERYONE,
    (ADMIN, "read"): EVERYONE,
    (ADMIN, "rename"): EVERYONE,
    (ADMIN, "manage_billing"): EVERYONE,
    (ADMIN, "read_audit_log"): EVERYONE,
    (ADMIN, "delete"): NOBODY,
    (ADMIN, "transfer_ownership"): NOBODY,
    (ADMIN, "invite"): frozenset({MEMBER}),
    (ADMIN, "revoke_invitation"): frozenset({MEMBER}),
    (ADMIN, "make_owner"): NOBODY,
    (ADMIN, "make_admin"): NOBODY,
    (ADMIN, "make_member"): frozenset({MEMBER}),
    (ADMIN, "remove"): frozenset({MEMBER}),
    (ADMIN, "leave"): EVERYONE,
    (MEMBER, "read"): EVERYONE,
    (MEMBER, "rename"): NOBODY,
    (MEMBER, "manage_billing"): NOBODY,
    (MEMBER, "read_audit_log"): NOBODY,
    (MEMBER, "delete"): NOBODY,
    (MEMBER, "transfer_ownership"): NOBODY,
    (MEMBER, "invite"): NOBODY,
    (MEMBER, "revoke_invitation"): NOBODY,
    (MEMBER, "make_owner"): NOBODY,
    (MEMBER, "make_admin"): NOBODY,
    (MEMBER, "make_member"): NOBODY,
    (MEMBER, "remove"): NOBODY,
    (MEMBER, "leave"): EVERYONE,
}

CASES = [
    (actor, action, target)
    for actor in OrgRole
    for action in ACTIONS
    for target in OrgRole
]


def test_the_table_covers_every_role_and_action() -> None:
    assert set(ALLOWED) == {(actor, action) for actor in OrgRole for action in ACTIONS}


@pytest.mark.parametrize(
    ("actor", "action", "target"),
    CASES,
    ids=[f"{a.value}-{action}-{t.value}" for a, action, t in CASES],
)
def test_an_org_role_may_act_on_a_target_role_exactly_as_the_table_says(
    actor: OrgRole, action: str, target: OrgRole
) -> None:
    assert ACTIONS[action](actor, target) is (target in ALLOWED[(actor, action)])
