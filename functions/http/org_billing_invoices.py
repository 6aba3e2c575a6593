"""The organization's invoices, newest first, paginated (admins and owners):
`{items, next_cursor}`, as a person's."""

from functions.runtime import api


# Authenticate; the organization with the caller's membership (its customer is
# on it). At Stripe: the invoices (none asked before the first checkout).
@api.endpoint(
    "GET /api/v1/orgs/{org_id}/billing/invoices",
    (*api.p.READ_ORG, api.p.STRIPE_API),
    budget=2,
)
@api.who("an admin or owner of the organization")
@api.sample(path={"org_id": "org-1"}, query={"limit": "10"})
@api.problems({403: api.ORG_ROLE_REFUSED, 404: api.NOT_A_MEMBER, 422: api.PAGING})
def org_billing_invoices(
    org_id: api.Segment,
    ctx: api.LoggedIn,
    limit: int = api.Query(default=20, ge=1, le=100),
    cursor: str | None = api.Query(default=None, max_length=512),
) -> api.InvoiceList:
    listing = ctx.container.list_org_invoices().execute(ctx.user, org_id, limit, cursor)
    return api.InvoiceList(items=listing.page.items, next_cursor=listing.next_cursor)
