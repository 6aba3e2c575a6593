"""The user's invoices, newest first, paginated: `{items, next_cursor}`, each with
number, status, amounts, currency, hosted and PDF URLs and date."""

from functions.runtime import api


# Authenticate; the invoices are Stripe's.
@api.endpoint("GET /api/v1/billing/invoices", api.p.ASK_STRIPE, budget=1)
@api.sample(query={"limit": "10"})
@api.problems({422: api.PAGING})
def billing_invoices(
    ctx: api.LoggedIn,
    limit: int = api.Query(default=20, ge=1, le=100),
    cursor: str | None = api.Query(default=None, max_length=512),
) -> api.InvoiceList:
    listing = ctx.container.list_invoices().execute(ctx.user, limit, cursor)
    return api.InvoiceList(items=listing.page.items, next_cursor=listing.next_cursor)
