"""Cancel the subscription at the end of the period paid for: the subscription."""

from functions.runtime import api


@api.endpoint(
    "POST /api/v1/billing/subscription/cancel", api.p.CHANGE_BILLING, budget=2
)
@api.problems({409: api.NO_SUBSCRIPTION})
def billing_cancel(ctx: api.LoggedIn) -> api.SubscriptionOut:
    return api.SubscriptionOut.of(ctx.container.cancel_subscription().execute(ctx.user))
