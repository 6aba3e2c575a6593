from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_create_with_role, is_admin, require
from core.application.registration import Registrar
from core.domain.user import Role, User


@dataclass(frozen=True, slots=True)
class CreateUser:
    """An admin creates a user; only a super admin creates an admin.

    ``role`` is ``user`` or ``admin``: ``InvalidRole`` for anything else,
    ``PermissionDenied`` when the actor may not create that role.
    """

    registrar: Registrar

    def execute(
        self, actor: User, username: str, email: str, password: str, role: str
    ) -> User:
        require(is_admin(actor))
        wanted = Role.parse(role)
        require(can_create_with_role(actor, wanted))
        return self.registrar.register(username, email, password, wanted)
