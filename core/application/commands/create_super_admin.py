from __future__ import annotations

from dataclasses import dataclass

from core.application.registration import Registrar
from core.domain.user import Role, User


@dataclass(frozen=True, slots=True)
class CreateSuperAdmin:
    """The management command's use case: make a super admin, the one role the API
    cannot grant. A taken username or email is an error, never a second account."""

    registrar: Registrar

    def execute(self, username: str, email: str, password: str) -> User:
        return self.registrar.register(username, email, password, Role.SUPER_ADMIN)
