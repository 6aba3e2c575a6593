"""POST /api/v1/billing/checkout : start buying a plan; answers the URL to send the
browser to (Stripe Checkout, or the first invoice for a bank transfer)."""

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from core.application.commands.start_checkout import PaymentMethod
from core.domain.billing import Interval
from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems
from functions.runtime.schemas import RedirectUrl

router = APIRouter(tags=["billing"])


class CheckoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str = Field(min_length=1, max_length=32)
    interval: Literal["month", "year"] = "month"
    # Lowercase ISO 4217, as Stripe writes it.
    currency: str = Field(default="usd", pattern=r"^[a-z]{3}$")
    payment_method: Literal["card", "bank_transfer"] = "card"


@router.post(
    "/api/v1/billing/checkout",
    response_model=RedirectUrl,
    responses=problems(
        401,
        (403, "`email_not_verified`: verify your email address before buying"),
        (409, "You already have this plan or another subscription"),
        413,
        415,
        422,
        503,
    ),
)
def billing_checkout(
    body: CheckoutRequest, container: ContainerDep, auth: CurrentAuth
) -> RedirectUrl:
    url = container.start_checkout().execute(
        auth.user,
        body.plan,
        Interval(body.interval),
        body.currency,
        PaymentMethod(body.payment_method),
    )
    return RedirectUrl(url=url)


handler = lambda_handler(router)
