"""Start buying a plan: `{url}` to send the browser to (Stripe Checkout, or the
first invoice for a bank transfer); 409 for the plan you have."""

from typing import Literal

from pydantic import Field

from core.application.commands.start_checkout import PaymentMethod
from core.domain.billing import Interval
from functions.permissions import AUTHENTICATED, STRIPE_API, USERS_WRITE
from functions.runtime.endpoint import ContainerDep, CurrentAuth, endpoint
from functions.runtime.schemas import Body, RedirectUrl


class CheckoutRequest(Body):
    plan: str = Field(min_length=1, max_length=32)
    interval: Literal["month", "year"] = "month"
    # Lowercase ISO 4217, as Stripe writes it.
    currency: str = Field(default="usd", pattern=r"^[a-z]{3}$")
    payment_method: Literal["card", "bank_transfer"] = "card"


# Authenticate; store the new Stripe customer with its claim (one transaction). At
# Stripe: make the customer (first purchase only), make the Checkout session.
@endpoint(
    "POST /api/v1/billing/checkout",
    (*AUTHENTICATED, USERS_WRITE, STRIPE_API),
    budget=2,
    stripe=2,
    sample={"body": {"plan": "pro", "interval": "month", "currency": "usd"}},
    problems=((409, "You already have this plan or another subscription"),),
)
def billing_checkout(
    body: CheckoutRequest, container: ContainerDep, auth: CurrentAuth
) -> RedirectUrl:
    method = PaymentMethod(body.payment_method)
    url = container.start_checkout().execute(
        auth.user, body.plan, Interval(body.interval), body.currency, method
    )
    return RedirectUrl(url=url)
