"""Response bodies shared by several endpoints."""

from __future__ import annotations

from pydantic import BaseModel

from core.domain.user import User


class UserOut(BaseModel):
    id: str
    username: str
    email: str


class UserDetail(BaseModel):
    id: str
    username: str
    email: str
    role: str
    is_active: bool
    created_at: str
    email_verified: bool

    @classmethod
    def of(cls, user: User) -> UserDetail:
        return cls(
            id=user.id,
            username=user.username.value,
            email=user.email.value,
            role=user.role.value,
            is_active=user.is_active,
            created_at=user.created_at.isoformat(),
            email_verified=user.email_verified,
        )
