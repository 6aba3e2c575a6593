from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.application.authorization import is_admin, require
from core.application.errors import InvalidPageRequest
from core.application.ports import (
    CursorCodec,
    SortOrder,
    UserRepository,
    UserSort,
    UserSummary,
)
from core.domain.user import User

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class UsersPage:
    items: Sequence[UserSummary]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ListUsers:
    """An admin reads the users one page at a time.

    The cursor is opaque and signed for this sort and order: a cursor that was
    altered or made for another query raises ``InvalidCursor``.
    """

    users: UserRepository
    cursors: CursorCodec

    def execute(
        self,
        actor: User,
        sort: UserSort,
        order: SortOrder,
        limit: int,
        cursor: str | None,
    ) -> UsersPage:
        require(is_admin(actor))
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidPageRequest()
        scope = f"users/{sort.value}/{order.value}"
        start = self.cursors.decode(cursor, scope) if cursor else None
        page = self.users.list_page(sort, order, limit, start)
        next_cursor = (
            self.cursors.encode(page.next_position, scope)
            if page.next_position is not None
            else None
        )
        return UsersPage(items=page.items, next_cursor=next_cursor)
