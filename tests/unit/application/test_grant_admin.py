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


@pytest.mark.parametrize(
    ("actor_role", "target_role"),
    [
        (Role.USER, Role.USER),
        (Role.ADMIN, Role.USER),
        (Role.ADMIN, Role.ADMIN),
        (Role.SUPER_ADMIN, Role.SUPER_ADMIN),
    ],
)
def test_only_a_super_admin_grants_admin_and_never_to_a_super_admin(
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


def test_a_super_admin_cannot_grant_admin_to_themselves(
    grant_admin: GrantAdmin, seed: Seed, users: InMemoryUserRepository
) -> None:
    root = seed("root1", Role.SUPER_ADMIN)

    with pytest.raises(PermissionDenied):
        grant_admin.execute(root, "root1")

    assert users.stored(root.id) == root


@pytest.mark.parametrize("username", ["nobody", "a..b"])
def test_granting_admin_to_an_unknown_user_is_not_found(
    grant_admin: GrantAdmin, seed: Seed, username: str
) -> None:
    root = seed("root1", Role.SUPER_ADMIN)

    with pytest.raises(UserNotFound):
        grant_admin.execute(root, username)
