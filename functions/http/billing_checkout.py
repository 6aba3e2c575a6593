"""Start buying a plan: `{url}` to send the browser to (Stripe Checkout, or the
first invoice for a bank transfer); 409 for the plan you have."""

from typing import Literal

from pydantic import Field

from core.application.commands.start_checkout import PaymentMethod
from core.domain.billing import Interval
from functions.permissions import CHANGE_BILLING
from functions.runtime.endpoint import ContainerDep, CurrentAuth, endpoint
from functions.runtime.problems import answer
from functions.runtime.schemas import Body, RedirectUrl

HAVE_ONE = "You already have this plan or another subscription"
TAKEN = ("already_subscribed", "subscription_exists", "concurrent_update")
UNSOLD = ("unknown_plan", "price_unavailable", "bank_transfer_unavailable")
UNVERIFIED = "`email_not_verified`: verify your email address before buying"


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
    CHANGE_BILLING,
    budget=2,
    stripe=2,
    counts={200: "CheckoutsStarted"},
    sample={"body": {"plan": "pro", "interval": "month", "currency": "usd"}},
    problems={
        403: answer(UNVERIFIED, "email_not_verified"),
        409: answer(HAVE_ONE, *TAKEN),
        422: answer("", *UNSOLD),
    },
)
def billing_checkout(
    body: CheckoutRequest, container: ContainerDep, auth: CurrentAuth
) -> RedirectUrl:
    buy = (body.plan, Interval(body.interval), body.currency)
    method = PaymentMethod(body.payment_method)
    return RedirectUrl(url=container.start_checkout().execute(auth.user, *buy, method))
