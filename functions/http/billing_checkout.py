"""Start buying a plan: `{url}` to send the browser to (Stripe Checkout, or the
first invoice for a bank transfer); 409 for the plan you have."""

from typing import Literal

from core.application.commands.start_checkout import PaymentMethod
from core.domain.billing import Interval
from functions.runtime import api

HAVE_ONE = "You already have this plan or another subscription"
TAKEN = ("already_subscribed", "subscription_exists", "concurrent_update")
UNSOLD = ("unknown_plan", "price_unavailable", "bank_transfer_unavailable")
UNVERIFIED = "`email_not_verified`: verify your email address before buying"


class CheckoutRequest(api.PlanChoice):
    payment_method: Literal["card", "bank_transfer"] = "card"


# Authenticate; store the new Stripe customer with its claim (one transaction). At
# Stripe: make the customer (first purchase only), make the Checkout session.
@api.endpoint("POST /api/v1/billing/checkout", api.p.CHANGE_BILLING, budget=2, stripe=2)
@api.counts({200: "CheckoutsStarted"})
@api.sample(body={"plan": "pro", "interval": "month", "currency": "usd"})
@api.problems({403: (UNVERIFIED, "email_not_verified"), 409: (HAVE_ONE, *TAKEN)})
@api.problems({422: ("", *UNSOLD)})
def billing_checkout(body: CheckoutRequest, ctx: api.LoggedIn) -> api.RedirectUrl:
    buy = (body.plan, Interval(body.interval), body.currency)
    method = PaymentMethod(body.payment_method)
    url = ctx.container.start_checkout().execute(ctx.user, *buy, method)
    return api.RedirectUrl(url=url)
