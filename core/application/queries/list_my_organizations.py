from __future__ import annotations

from dataclasses import dataclass

from core.application.org_ports import MyOrganization, OrganizationStore
from core.application.organizations import Page, check_limit, cursor_of, start_of
from core.application.ports import CursorCodec
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class ListMyOrganizations:
    """The organizations the user belongs to, with their role in each, a page at a
    time (a Query of the by-member index). The cursor is signed for this user:
    another user's raises ``InvalidCursor``."""

    orgs: OrganizationStore
    cursors: CursorCodec

    def execute(
        self, actor: User, limit: int, cursor: str | None
    ) -> Page[MyOrganization]:
        check_limit(limit)
        scope = f"orgs/{actor.id}"
        page = self.orgs.list_for_user(
            actor.id, limit, start_of(self.cursors, cursor, scope)
        )
        return Page(page.items, cursor_of(self.cursors, page.next_position, scope))
