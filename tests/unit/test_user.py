from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.domain.errors import InvalidRole
from core.domain.user import Email, Role, User, Username


def user(role: Role = Role.USER, *, active: bool = True, epoch: int = 0) -> User:
    return User(
        id="u1",
        username=Username("alice"),
        email=Email("alice@example.com"),
        password_hash="h",
        role=role,
        is_active=active,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        session_epoch=epoch,
        version=4,
    )


@pytest.mark.parametrize(
    ("value", "role"),
    [("user", Role.USER), ("admin", Role.ADMIN), ("super_admin", Role.SUPER_ADMIN)],
)
def test_a_known_role_name_parses_to_its_role(value: str, role: Role) -> None:
    assert Role.parse(value) is role


@pytest.mark.parametrize(
    "value", ["", "Admin", "ADMIN", "superadmin", "super-admin", "root", " user"]
)
def test_an_unknown_role_name_is_refused(value: str) -> None:
    with pytest.raises(InvalidRole):
        Role.parse(value)


def test_deactivation_bumps_the_session_epoch() -> None:
    deactivated = user(epoch=2).deactivated()
    assert deactivated.is_active is False
    assert deactivated.session_epoch == 3


def test_activation_does_not_revive_old_sessions() -> None:
    reactivated = user(epoch=2).deactivated().activated()
    assert reactivated.is_active is True
    assert reactivated.session_epoch == 3


def test_a_new_password_bumps_the_session_epoch() -> None:
    changed = user(epoch=5).with_password("new-hash")
    assert changed.password_hash == "new-hash"
    assert changed.session_epoch == 6


def test_changing_the_role_keeps_the_epoch_and_version() -> None:
    promoted = user(epoch=1).with_role(Role.ADMIN)
    assert promoted.role is Role.ADMIN
    assert (promoted.session_epoch, promoted.version) == (1, 4)
