from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_read_org, require
from core.application.org_ports import OrganizationStore
from core.application.organizations import (
    Page,
    check_limit,
    cursor_of,
    load_membership,
    start_of,
)
from core.application.ports import CursorCodec
from core.domain.organization import Membership
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class ListMembers:
    """A member reads the organization's members and their roles, a page at a time
    (a Query of the organization's partition)."""

    orgs: OrganizationStore
    cursors: CursorCodec

    def execute(
        self, actor: User, org_id: str, limit: int, cursor: str | None
    ) -> Page[Membership]:
        org, membership = load_membership(self.orgs, org_id, actor)
        require(can_read_org(membership.role))
        check_limit(limit)
        scope = f"members/{org.id}"
        page = self.orgs.list_members(
            org.id, limit, start_of(self.cursors, cursor, scope)
        )
        return Page(page.items, cursor_of(self.cursors, page.next_position, scope))
