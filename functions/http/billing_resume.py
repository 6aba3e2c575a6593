"""Take back a cancellation before the period ends: the subscription."""

from functions.runtime import api


@api.endpoint(
    "POST /api/v1/billing/subscription/resume", api.p.CHANGE_BILLING, budget=2
)
@api.problems({409: api.NO_SUBSCRIPTION})
def billing_resume(ctx: api.LoggedIn) -> api.SubscriptionOut:
    return api.SubscriptionOut.of(ctx.container.resume_subscription().execute(ctx.user))
