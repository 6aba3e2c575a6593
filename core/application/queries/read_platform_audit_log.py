from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_read_platform_audit, require
from core.application.org_ports import AuditLog
from core.application.organizations import Page, check_limit, cursor_of, start_of
from core.application.ports import Clock, CursorCodec
from core.domain.organization import PLATFORM_AUDIT, AuditEntry
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class ReadPlatformAuditLog:
    """Super admins read the platform's audit log (admin grants and revocations,
    activations, deactivations, password changes), newest first."""

    audit: AuditLog
    cursors: CursorCodec
    clock: Clock

    def execute(self, actor: User, limit: int, cursor: str | None) -> Page[AuditEntry]:
        require(can_read_platform_audit(actor))
        check_limit(limit)
        scope = "audit/platform"
        page = self.audit.list(
            PLATFORM_AUDIT,
            self.clock.now(),
            limit,
            start_of(self.cursors, cursor, scope),
        )
        return Page(page.items, cursor_of(self.cursors, page.next_position, scope))
