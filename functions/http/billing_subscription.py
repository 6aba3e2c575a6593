"""The user's subscription and the plan in force."""

from functions.runtime import api


# Authenticate: the subscription came with the user.
@api.endpoint("GET /api/v1/billing/subscription", api.p.AUTHENTICATED, budget=1)
def billing_subscription(ctx: api.LoggedIn) -> api.SubscriptionOut:
    return api.SubscriptionOut.of(ctx.container.get_subscription().execute(ctx.user))
