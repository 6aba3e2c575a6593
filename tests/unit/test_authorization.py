"""The permission rules, written out as tables: every (subject, target) pair of roles,
plus each role acting on itself. The expected outcomes are the role rules themselves,
written out by hand rather than derived from ``core/application/authorization.py``:

- a super admin manages admins and users; an admin manages users;
- nobody manages a super admin; nobody manages themselves;
- only a super admin grants or revokes admin;
- everyone sets their own password, an admin a subordinate's;
- nobody creates a super admin through the API.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.application.authorization import (
    can_change_admin_rights,
    can_create_with_role,
    can_manage,
    can_set_password,
    is_admin,
    require,
)
from core.application.errors import PermissionDenied
from core.domain.user import Email, Role, User, Username

USER, ADMIN, SUPER = Role.USER, Role.ADMIN, Role.SUPER_ADMIN
SELF = "self"


def person(role: Role, user_id: str) -> User:
    return User(
        id=user_id,
        username=Username(f"user-{user_id}"),
        email=Email(f"{user_id}@example.com"),
        password_hash="h",
        role=role,
        is_active=True,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


def pair(subject_role: Role, target_role: Role | str) -> tuple[User, User]:
    subject = person(subject_role, "subject")
    if target_role == SELF:
        return subject, subject
    assert isinstance(target_role, Role)
    return subject, person(target_role, "target")


# subject, target, can_manage, can_change_admin_rights, can_set_password
PAIR_RULES = [
    (USER, USER, False, False, False),
    (USER, ADMIN, False, False, False),
    (USER, SUPER, False, False, False),
    (USER, SELF, False, False, True),
    (ADMIN, USER, True, False, True),
    (ADMIN, ADMIN, False, False, False),
    (ADMIN, SUPER, False, False, False),
    (ADMIN, SELF, False, False, True),
    (SUPER, USER, True, True, True),
    (SUPER, ADMIN, True, True, True),
    (SUPER, SUPER, False, False, False),
    (SUPER, SELF, False, False, True),
]
PAIR_IDS = [f"{s.value}-over-{getattr(t, 'value', t)}" for s, t, *_ in PAIR_RULES]


def test_the_table_covers_every_pair_of_roles_and_every_role_on_itself() -> None:
    covered = {(s, t) for s, t, *_ in PAIR_RULES}
    assert covered == {(s, t) for s in Role for t in [*Role, SELF]}


@pytest.mark.parametrize(
    ("subject_role", "target_role", "expected", "_admin", "_password"),
    PAIR_RULES,
    ids=PAIR_IDS,
)
def test_who_may_manage_whom(
    subject_role: Role,
    target_role: Role | str,
    expected: bool,
    _admin: bool,
    _password: bool,
) -> None:
    subject, target = pair(subject_role, target_role)
    assert can_manage(subject, target) is expected


@pytest.mark.parametrize(
    ("subject_role", "target_role", "_manage", "expected", "_password"),
    PAIR_RULES,
    ids=PAIR_IDS,
)
def test_who_may_grant_or_revoke_admin_rights_of_whom(
    subject_role: Role,
    target_role: Role | str,
    _manage: bool,
    expected: bool,
    _password: bool,
) -> None:
    subject, target = pair(subject_role, target_role)
    assert can_change_admin_rights(subject, target) is expected


@pytest.mark.parametrize(
    ("subject_role", "target_role", "_manage", "_admin", "expected"),
    PAIR_RULES,
    ids=PAIR_IDS,
)
def test_who_may_set_whose_password(
    subject_role: Role,
    target_role: Role | str,
    _manage: bool,
    _admin: bool,
    expected: bool,
) -> None:
    subject, target = pair(subject_role, target_role)
    assert can_set_password(subject, target) is expected


# subject, role to create, allowed
CREATE_RULES = [
    (USER, USER, False),
    (USER, ADMIN, False),
    (USER, SUPER, False),
    (ADMIN, USER, True),
    (ADMIN, ADMIN, False),
    (ADMIN, SUPER, False),
    (SUPER, USER, True),
    (SUPER, ADMIN, True),
    (SUPER, SUPER, False),
]


def test_the_creation_table_covers_every_pair_of_roles() -> None:
    assert {(s, r) for s, r, _ in CREATE_RULES} == {(s, r) for s in Role for r in Role}


@pytest.mark.parametrize(
    ("subject_role", "role", "expected"),
    CREATE_RULES,
    ids=[f"{s.value}-creates-{r.value}" for s, r, _ in CREATE_RULES],
)
def test_who_may_create_a_user_of_which_role(
    subject_role: Role, role: Role, expected: bool
) -> None:
    assert can_create_with_role(person(subject_role, "subject"), role) is expected


@pytest.mark.parametrize(
    ("role", "expected"), [(USER, False), (ADMIN, True), (SUPER, True)]
)
def test_only_admins_and_super_admins_count_as_admins(
    role: Role, expected: bool
) -> None:
    assert is_admin(person(role, "subject")) is expected


def test_two_super_admins_cannot_manage_each_other_even_with_distinct_ids() -> None:
    first, second = person(SUPER, "one"), person(SUPER, "two")
    assert not can_manage(first, second)
    assert not can_manage(second, first)


def test_require_passes_an_allowed_action_and_refuses_a_disallowed_one() -> None:
    require(True)
    with pytest.raises(PermissionDenied):
        require(False)


@pytest.mark.parametrize(
    ("authenticated_as", "stored_as"), [(ADMIN, USER), (SUPER, ADMIN), (SUPER, USER)]
)
def test_nobody_manages_themselves_even_when_their_stored_role_changed_meanwhile(
    authenticated_as: Role, stored_as: Role
) -> None:
    # The actor comes from authentication, the target from a fresh read: after a
    # concurrent demotion the same person appears with two ranks.
    subject, target = person(authenticated_as, "same"), person(stored_as, "same")
    assert not can_manage(subject, target)
    assert not can_change_admin_rights(subject, target)
    assert can_set_password(subject, target)
