"""The user's invoices, newest first, paginated: `{items, next_cursor}`, each with
number, status, amounts, currency, hosted and PDF URLs and date."""

from datetime import datetime

from functions.runtime import api


class InvoiceOut(api.FromAttributes):
    id: str
    number: str | None
    status: str
    # In the currency's smallest unit (cents).
    amount_due: int
    amount_paid: int
    currency: str
    hosted_invoice_url: str | None
    invoice_pdf: str | None
    created: datetime


class InvoiceList(api.BaseModel):
    items: list[InvoiceOut]
    next_cursor: str | None


# Authenticate; the invoices are Stripe's.
@api.endpoint("GET /api/v1/billing/invoices", api.p.ASK_STRIPE, budget=1)
@api.sample(query={"limit": "10"})
@api.problems({422: api.PAGING})
def billing_invoices(
    ctx: api.LoggedIn,
    limit: int = api.Query(default=20, ge=1, le=100),
    cursor: str | None = api.Query(default=None, max_length=512),
) -> InvoiceList:
    listing = ctx.container.list_invoices().execute(ctx.user, limit, cursor)
    return InvoiceList(items=listing.page.items, next_cursor=listing.next_cursor)
