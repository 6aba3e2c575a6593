from __future__ import annotations

import pytest

from core.application.commands.revoke_admin import RevokeAdmin
from core.application.errors import PermissionDenied, UserNotFound
from core.domain.user import Role
from tests.fakes import InMemoryUserRepository
from tests.unit.application.conftest import Seed


@pytest.fixture
def revoke_admin(users: InMemoryUserRepository) -> RevokeAdmin:
    return RevokeAdmin(users)


def test_a_super_admin_makes_an_admin_a_plain_user(
    revoke_admin: RevokeAdmin, seed: Seed, users: InMemoryUserRepository
) -> None:
    root, admin = seed("root1", Role.SUPER_ADMIN), seed("admin1", Role.ADMIN)

    revoke_admin.execute(root, "ADMIN1")

    stored = users.stored(admin.id)
    assert stored is not None
    assert stored.role is Role.USER
    assert users.calls["save"] == 1


def test_revoking_admin_from_a_plain_user_succeeds_and_writes_nothing(
    revoke_admin: RevokeAdmin, seed: Seed, users: InMemoryUserRepository
) -> None:
    root, bobby = seed("root1", Role.SUPER_ADMIN), seed("bobby")

    revoke_admin.execute(root, "bobby")

    assert users.stored(bobby.id) == bobby
    assert users.writes == 0


# Who may change admin rights is the rule's (tests/unit/test_authorization.py, every
# pair of roles) and each route's (tests/security/test_privileges.py); here, only
# that the use case asks it and stops.
@pytest.mark.parametrize(("actor_role", "target_role"), [(Role.ADMIN, Role.USER)])
def test_a_revocation_the_rule_refuses_is_denied_and_writes_nothing(
    revoke_admin: RevokeAdmin,
    seed: Seed,
    users: InMemoryUserRepository,
    actor_role: Role,
    target_role: Role,
) -> None:
    actor, target = seed("actor", actor_role), seed("target", target_role)

    with pytest.raises(PermissionDenied):
        revoke_admin.execute(actor, "target")

    assert users.stored(target.id) == target
    assert users.writes == 0


def test_revoking_admin_from_an_unknown_user_is_not_found(
    revoke_admin: RevokeAdmin, seed: Seed
) -> None:
    root = seed("root1", Role.SUPER_ADMIN)

    with pytest.raises(UserNotFound):
        revoke_admin.execute(root, "nobody")
