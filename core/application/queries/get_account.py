from __future__ import annotations

from dataclasses import dataclass

from core.domain.user import User


@dataclass(frozen=True, slots=True)
class AccountView:
    id: str
    username: str
    email: str
    role: str
    is_active: bool
    created_at: str
    email_verified: bool


@dataclass(frozen=True, slots=True)
class GetAccount:
    """What a logged-in user sees of their own account.

    Authentication already loaded the user, so this reads nothing more.
    """

    def execute(self, user: User) -> AccountView:
        return AccountView(
            id=user.id,
            username=user.username.value,
            email=user.email.value,
            role=user.role.value,
            is_active=user.is_active,
            created_at=user.created_at.isoformat(),
            email_verified=user.email_verified,
        )
