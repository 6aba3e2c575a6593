from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_manage, require
from core.application.lookups import load_user_by_username
from core.application.organizations import PlatformAudit
from core.application.ports import UserRepository
from core.domain.organization import AuditAction
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class ActivateUser:
    """An admin lets a deactivated subordinate log in again."""

    users: UserRepository
    # The platform's audit log (the container always gives one).
    platform_audit: PlatformAudit | None = None

    def execute(self, actor: User, username: str) -> None:
        target = load_user_by_username(self.users, username)
        require(can_manage(actor, target))
        if not target.is_active:
            self.users.save(target.activated())
            if self.platform_audit is not None:
                self.platform_audit.record(actor, AuditAction.USER_ACTIVATED, target)
