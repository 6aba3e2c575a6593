from __future__ import annotations

from dataclasses import dataclass

from core.application.errors import InvalidCursor, InvalidPageRequest
from core.application.ports import CursorCodec, InvoicePage, PaymentProvider
from core.domain.user import User

MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class InvoiceListing:
    page: InvoicePage
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ListInvoices:
    """One page of the user's own invoices, newest first, with an opaque cursor to
    the next. A cursor is bound to the user it was made for. A user who never
    checked out has none (no Stripe call)."""

    provider: PaymentProvider
    cursors: CursorCodec

    def execute(self, user: User, limit: int, cursor: str | None) -> InvoiceListing:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidPageRequest(f"limit must be between 1 and {MAX_LIMIT}")
        scope = f"invoices:{user.id}"
        after = None
        if cursor:
            after = self.cursors.decode(cursor, scope).get("after")
            if not isinstance(after, str) or not after:
                raise InvalidCursor()
        customer_id = user.billing.customer_id
        if not customer_id:
            return InvoiceListing(InvoicePage(items=[], next_after=None), None)
        page = self.provider.list_invoices(customer_id, limit, after)
        next_cursor = (
            self.cursors.encode({"after": page.next_after}, scope)
            if page.next_after
            else None
        )
        return InvoiceListing(page, next_cursor)
