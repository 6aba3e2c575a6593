from __future__ import annotations

import pytest

from core.application.commands.create_super_admin import CreateSuperAdmin
from core.application.errors import EmailTaken, UsernameTaken
from core.application.registration import Registrar
from core.domain.errors import InvalidPassword
from core.domain.user import Role
from tests.fakes import InMemoryUserRepository


@pytest.fixture
def create_super_admin(registrar: Registrar) -> CreateSuperAdmin:
    return CreateSuperAdmin(registrar)


def test_the_management_command_creates_an_active_super_admin(
    create_super_admin: CreateSuperAdmin, users: InMemoryUserRepository
) -> None:
    root = create_super_admin.execute("root1", "root@example.com", "long enough")

    stored = users.get_by_username("root1")
    assert stored is not None
    assert stored.id == root.id
    assert stored.role is Role.SUPER_ADMIN
    assert stored.is_active


def test_running_it_twice_with_the_same_username_is_an_error_not_a_second_account(
    create_super_admin: CreateSuperAdmin, users: InMemoryUserRepository
) -> None:
    create_super_admin.execute("root1", "root@example.com", "long enough")

    with pytest.raises(UsernameTaken):
        create_super_admin.execute("ROOT1", "other@example.com", "long enough")

    assert len(users.all()) == 1


def test_a_second_super_admin_cannot_reuse_the_email(
    create_super_admin: CreateSuperAdmin, users: InMemoryUserRepository
) -> None:
    create_super_admin.execute("root1", "root@example.com", "long enough")

    with pytest.raises(EmailTaken):
        create_super_admin.execute("root2", "Root@Example.com", "long enough")

    assert len(users.all()) == 1


def test_the_password_policy_applies_to_a_super_admin_too(
    create_super_admin: CreateSuperAdmin, users: InMemoryUserRepository
) -> None:
    with pytest.raises(InvalidPassword):
        create_super_admin.execute("root1", "root@example.com", "short")

    assert users.all() == []
