from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_manage, require
from core.application.lookups import load_user_by_username
from core.application.organizations import PlatformAudit
from core.application.ports import SessionStore, UserRepository
from core.domain.organization import AuditAction
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class DeactivateUser:
    """An admin stops a subordinate from logging in and ends all their sessions.

    The stored epoch bump refuses every open session from the next request on; the
    session items are then deleted as well.
    """

    users: UserRepository
    sessions: SessionStore
    # The platform's audit log (the container always gives one).
    platform_audit: PlatformAudit | None = None

    def execute(self, actor: User, username: str) -> None:
        target = load_user_by_username(self.users, username)
        require(can_manage(actor, target))
        if target.is_active:
            self.users.save(target.deactivated())
            if self.platform_audit is not None:
                self.platform_audit.record(actor, AuditAction.USER_DEACTIVATED, target)
        self.sessions.delete_all_for_user(target.id)
