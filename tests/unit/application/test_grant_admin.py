from __future__ import annotations

import pytest

from core.application.commands.grant_admin import GrantAdmin
from core.application.errors import PermissionDenied, UserNotFound
from core.domain.user import Role
from tests.fakes import InMemoryUserRepository
from tests.unit.application.conftest import Seed


@pytest.fixture
def grant_admin(users: InMemoryUserRepository) -> GrantAdmin:
    return GrantAdmin(users)


def test_a_super_admin_makes_a_user_an_admin(
    grant_admin: GrantAdmin, seed: Seed, users: InMemoryUserRepository
) -> None:
    root, bobby = seed("root1", Role.SUPER_ADMIN), seed("Bobby")

    grant_admin.execute(root, "bobby")

    stored = users.stored(bobby.id)
    assert stored is not None
    assert stored.role is Role.ADMIN
    assert stored.version == bobby.version + 1
    assert users.calls["save"] == 1


def test_granting_admin_to_an_admin_succeeds_and_writes_nothing(
    grant_admin: GrantAdmin, seed: Seed, users: InMemoryUserRepository
) -> None:
    root, admin = seed("root1", Role.SUPER_ADMIN), seed("admin1", Role.ADMIN)

    grant_admin.execute(root, "admin1")

    assert users.stored(admin.id) == admin
    assert users.writes == 0


# Who may change admin rights is the rule's (tests/unit/test_authorization.py, every
# pair of roles) and each route's (tests/security/test_privileges.py); here, only
# that the use case asks it and stops.
@pytest.mark.parametrize(("actor_role", "target_role"), [(Role.ADMIN, Role.USER)])
def test_a_grant_the_rule_refuses_is_denied_and_writes_nothing(
    grant_admin: GrantAdmin,
    seed: Seed,
    users: InMemoryUserRepository,
    actor_role: Role,
    target_role: Role,
) -> None:
    actor, target = seed("actor", actor_role), seed("target", target_role)

    with pytest.raises(PermissionDenied):
        grant_admin.execute(actor, "target")

    assert users.stored(target.id) == target
    assert users.writes == 0


@pytest.mark.parametrize("username", ["nobody", "a..b"])
def test_granting_admin_to_an_unknown_user_is_not_found(
    grant_admin: GrantAdmin, seed: Seed, username: str
) -> None:
    root = seed("root1", Role.SUPER_ADMIN)

    with pytest.raises(UserNotFound):
        grant_admin.execute(root, username)
