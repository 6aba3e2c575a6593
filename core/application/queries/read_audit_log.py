from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_read_audit_log, require
from core.application.org_ports import AuditLog, OrganizationStore
from core.application.organizations import (
    Page,
    check_limit,
    cursor_of,
    load_membership,
    start_of,
)
from core.application.ports import Clock, CursorCodec
from core.domain.organization import AuditEntry
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class ReadAuditLog:
    """Admins and owners read the organization's audit log, newest first, a page
    at a time; the cursor is signed for this organization's log."""

    orgs: OrganizationStore
    audit: AuditLog
    cursors: CursorCodec
    clock: Clock

    def execute(
        self, actor: User, org_id: str, limit: int, cursor: str | None
    ) -> Page[AuditEntry]:
        org, membership = load_membership(self.orgs, org_id, actor)
        require(can_read_audit_log(membership.role))
        check_limit(limit)
        scope = f"audit/{org.id}"
        page = self.audit.list(
            org.id, self.clock.now(), limit, start_of(self.cursors, cursor, scope)
        )
        return Page(page.items, cursor_of(self.cursors, page.next_position, scope))
