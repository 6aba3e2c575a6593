from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_read_audit_log, require
from core.application.billing import BillingConfig
from core.application.org_features import AUDIT_LOG, require_org_feature
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
    at a time; the cursor is signed for this organization's log.

    Reading it is a feature of the organization's plan (``AUDIT_LOG``): a
    non-member sees no organization (``OrganizationNotFound``), a member is
    refused (``PermissionDenied``), and only then does a plan without it answer
    ``PlanRequired``, so the 402 tells nobody outside the organization's admins
    what it pays for. Entries are recorded whatever the plan."""

    orgs: OrganizationStore
    audit: AuditLog
    cursors: CursorCodec
    clock: Clock
    config: BillingConfig

    def execute(
        self, actor: User, org_id: str, limit: int, cursor: str | None
    ) -> Page[AuditEntry]:
        org, membership = load_membership(self.orgs, org_id, actor)
        require(can_read_audit_log(membership.role))
        now = self.clock.now()
        require_org_feature(self.config, org, AUDIT_LOG, now)
        check_limit(limit)
        scope = f"audit/{org.id}"
        page = self.audit.list(
            org.id, now, limit, start_of(self.cursors, cursor, scope)
        )
        return Page(page.items, cursor_of(self.cursors, page.next_position, scope))
