from __future__ import annotations

import pytest

from core.application.commands.create_user import CreateUser
from core.application.errors import PermissionDenied, UsernameTaken
from core.application.registration import Registrar
from core.domain.errors import InvalidPassword, InvalidRole, InvalidUsername
from core.domain.user import Role
from tests.fakes import InMemoryUserRepository
from tests.unit.application.conftest import Seed

USER, ADMIN, SUPER = Role.USER, Role.ADMIN, Role.SUPER_ADMIN


@pytest.fixture
def create_user(registrar: Registrar) -> CreateUser:
    return CreateUser(registrar)


# actor role, requested role, allowed
CREATION_TABLE = [
    (USER, "user", False),
    (USER, "admin", False),
    (USER, "super_admin", False),
    (ADMIN, "user", True),
    (ADMIN, "admin", False),
    (ADMIN, "super_admin", False),
    (SUPER, "user", True),
    (SUPER, "admin", True),
    (SUPER, "super_admin", False),
]


@pytest.mark.parametrize(
    ("actor_role", "role", "allowed"),
    CREATION_TABLE,
    ids=[f"{a.value}-creates-{r}" for a, r, _ in CREATION_TABLE],
)
def test_who_may_create_which_role(
    create_user: CreateUser,
    seed: Seed,
    users: InMemoryUserRepository,
    actor_role: Role,
    role: str,
    allowed: bool,
) -> None:
    actor = seed("actor", actor_role)

    if allowed:
        created = create_user.execute(
            actor, "newbie", "n@example.com", "long enough", role
        )
        assert created.role is Role(role)
        stored = users.get_by_username("newbie")
        assert stored is not None
        assert stored.role is Role(role)
        assert stored.is_active
    else:
        with pytest.raises(PermissionDenied):
            create_user.execute(actor, "newbie", "n@example.com", "long enough", role)
        assert users.calls["add"] == 0
        assert users.get_by_username("newbie") is None


@pytest.mark.parametrize("role", ["root", "", "Admin", "SUPER_ADMIN", "owner"])
def test_an_admin_asking_for_an_unknown_role_gets_invalid_role(
    create_user: CreateUser, seed: Seed, users: InMemoryUserRepository, role: str
) -> None:
    admin = seed("admin1", SUPER)

    with pytest.raises(InvalidRole):
        create_user.execute(admin, "newbie", "n@example.com", "long enough", role)

    assert users.calls["add"] == 0


def test_a_plain_user_is_refused_before_the_role_is_even_read(
    create_user: CreateUser, seed: Seed
) -> None:
    user = seed("plain")

    with pytest.raises(PermissionDenied):
        create_user.execute(user, "newbie", "n@example.com", "long enough", "root")


def test_an_admin_cannot_create_a_user_whose_username_is_taken_in_another_case(
    create_user: CreateUser, seed: Seed, users: InMemoryUserRepository
) -> None:
    admin = seed("admin1", ADMIN)
    seed("Newbie")

    with pytest.raises(UsernameTaken):
        create_user.execute(admin, "NEWBIE", "other@example.com", "long enough", "user")

    assert len(users.all()) == 2


@pytest.mark.parametrize(
    ("username", "password", "error"),
    [("ab", "long enough", InvalidUsername), ("newbie", "short", InvalidPassword)],
)
def test_an_admin_creating_a_user_with_bad_values_writes_nothing(
    create_user: CreateUser,
    seed: Seed,
    users: InMemoryUserRepository,
    username: str,
    password: str,
    error: type[Exception],
) -> None:
    admin = seed("admin1", ADMIN)

    with pytest.raises(error):
        create_user.execute(admin, username, "n@example.com", password, "user")

    assert users.calls["add"] == 0
    assert users.all() == [admin]
