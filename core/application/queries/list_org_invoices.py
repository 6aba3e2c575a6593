from __future__ import annotations

from dataclasses import dataclass

from core.application.errors import InvalidCursor, InvalidPageRequest
from core.application.org_billing import load_billed_org
from core.application.org_ports import OrganizationStore
from core.application.ports import CursorCodec, InvoicePage, PaymentProvider
from core.domain.user import User

MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class OrgInvoiceListing:
    page: InvoicePage
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ListOrgInvoices:
    """One page of an organization's invoices, newest first, for its admins and
    owners, with an opaque cursor bound to the organization. None (and no Stripe
    call) before its first checkout."""

    orgs: OrganizationStore
    provider: PaymentProvider
    cursors: CursorCodec

    def execute(
        self, actor: User, org_id: str, limit: int, cursor: str | None
    ) -> OrgInvoiceListing:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidPageRequest(f"limit must be between 1 and {MAX_LIMIT}")
        org = load_billed_org(self.orgs, org_id, actor)
        scope = f"org-invoices:{org.id}"
        after = None
        if cursor:
            after = self.cursors.decode(cursor, scope).get("after")
            if not isinstance(after, str) or not after:
                raise InvalidCursor()
        customer_id = org.billing.customer_id
        if not customer_id:
            return OrgInvoiceListing(InvoicePage(items=[], next_after=None), None)
        page = self.provider.list_invoices(customer_id, limit, after)
        next_cursor = (
            self.cursors.encode({"after": page.next_after}, scope)
            if page.next_after
            else None
        )
        return OrgInvoiceListing(page, next_cursor)
