from __future__ import annotations

from dataclasses import astuple, fields

from core.application.queries.get_account import AccountView, GetAccount
from core.domain.user import Role
from tests.fakes import InMemoryUserRepository
from tests.unit.application.conftest import Seed


def test_a_user_sees_their_own_account_without_any_further_read(
    seed: Seed, users: InMemoryUserRepository
) -> None:
    alice = seed("Alice", Role.ADMIN, email="Alice@Example.com")

    view = GetAccount().execute(alice)

    assert view == AccountView(
        id=alice.id,
        username="Alice",
        email="Alice@Example.com",
        role="admin",
        is_active=True,
        created_at=alice.created_at.isoformat(),
        email_verified=False,
    )
    assert sum(users.calls.values()) == 0


def test_a_user_sees_whether_their_email_is_verified(
    seed: Seed, users: InMemoryUserRepository
) -> None:
    alice = users.save(seed("alice").with_email_verified())

    assert GetAccount().execute(alice).email_verified is True


def test_the_account_view_never_carries_the_password_hash(seed: Seed) -> None:
    alice = seed("alice")
    view = GetAccount().execute(alice)
    assert alice.password_hash not in astuple(view)
    assert "password_hash" not in {f.name for f in fields(view)}
