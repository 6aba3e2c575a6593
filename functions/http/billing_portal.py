"""A Stripe Customer Portal session for the user: `{url}`; 409 before any checkout."""

from functions.runtime import api


@api.endpoint("POST /api/v1/billing/portal", api.p.ASK_STRIPE, budget=1)
@api.problems({409: ("No billing account yet: check out first", "no_billing_account")})
def billing_portal(ctx: api.LoggedIn) -> api.RedirectUrl:
    return api.RedirectUrl(url=ctx.container.open_billing_portal().execute(ctx.user))
