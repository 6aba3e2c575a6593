"""The user's invoices, newest first, paginated: `{items, next_cursor}`, each with
number, status, amounts, currency, hosted and PDF URLs and date."""

from datetime import datetime

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from functions.permissions import ASK_STRIPE
from functions.runtime.endpoint import ContainerDep, CurrentAuth, endpoint
from functions.runtime.problems import PAGING


class InvoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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


class InvoiceList(BaseModel):
    items: list[InvoiceOut]
    next_cursor: str | None


# Authenticate; the invoices are Stripe's.
@endpoint(
    "GET /api/v1/billing/invoices",
    ASK_STRIPE,
    budget=1,
    stripe=1,
    sample={"query": {"limit": "10"}},
    problems={422: PAGING},
)
def billing_invoices(
    container: ContainerDep,
    auth: CurrentAuth,
    limit: int = Query(default=20, ge=1, le=100),
    cursor: str | None = Query(default=None, max_length=512),
) -> InvoiceList:
    listing = container.list_invoices().execute(auth.user, limit, cursor)
    return InvoiceList(items=listing.page.items, next_cursor=listing.next_cursor)
