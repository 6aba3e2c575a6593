from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_change_admin_rights, require
from core.application.lookups import load_user_by_username
from core.application.organizations import PlatformAudit
from core.application.ports import UserRepository
from core.domain.organization import AuditAction
from core.domain.user import Role, User


@dataclass(frozen=True, slots=True)
class RevokeAdmin:
    """A super admin makes an admin a plain user; revoking a user changes nothing."""

    users: UserRepository
    # The platform's audit log (the container always gives one).
    platform_audit: PlatformAudit | None = None

    def execute(self, actor: User, username: str) -> None:
        target = load_user_by_username(self.users, username)
        require(can_change_admin_rights(actor, target))
        if target.role is not Role.USER:
            self.users.save(target.with_role(Role.USER))
            if self.platform_audit is not None:
                self.platform_audit.record(
                    actor, AuditAction.USER_ADMIN_REVOKED, target
                )
