from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_invite, require
from core.application.org_ports import InvitationStore, OrganizationStore
from core.application.organizations import (
    Page,
    check_limit,
    cursor_of,
    load_membership,
    start_of,
)
from core.application.ports import Clock, CursorCodec
from core.domain.organization import Invitation, OrgRole
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class ListInvitations:
    """Those who may invite (admins and owners) read the pending, unexpired
    invitations, by address, a page at a time."""

    orgs: OrganizationStore
    invitations: InvitationStore
    cursors: CursorCodec
    clock: Clock

    def execute(
        self, actor: User, org_id: str, limit: int, cursor: str | None
    ) -> Page[Invitation]:
        org, membership = load_membership(self.orgs, org_id, actor)
        require(can_invite(membership.role, OrgRole.MEMBER))
        check_limit(limit)
        scope = f"invitations/{org.id}"
        page = self.invitations.list_pending(
            org.id, self.clock.now(), limit, start_of(self.cursors, cursor, scope)
        )
        return Page(page.items, cursor_of(self.cursors, page.next_position, scope))
