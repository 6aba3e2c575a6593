"""GET /api/v1/billing/invoices : the user's invoices, newest first, paginated."""

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems

router = APIRouter(tags=["billing"])


class InvoiceOut(BaseModel):
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


@router.get(
    "/api/v1/billing/invoices",
    response_model=InvoiceList,
    responses=problems(401, 413, 422, 503),
)
def billing_invoices(
    container: ContainerDep,
    auth: CurrentAuth,
    limit: int = Query(default=20, ge=1, le=100),
    cursor: str | None = Query(default=None, max_length=512),
) -> InvoiceList:
    listing = container.list_invoices().execute(auth.user, limit, cursor)
    return InvoiceList(
        items=[
            InvoiceOut(
                id=invoice.id,
                number=invoice.number,
                status=invoice.status,
                amount_due=invoice.amount_due,
                amount_paid=invoice.amount_paid,
                currency=invoice.currency,
                hosted_invoice_url=invoice.hosted_invoice_url,
                invoice_pdf=invoice.invoice_pdf,
                created=invoice.created,
            )
            for invoice in listing.page.items
        ],
        next_cursor=listing.next_cursor,
    )


handler = lambda_handler(router)
