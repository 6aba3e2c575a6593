"""The logged-in user's own account: who they are, their plan, subscription and
entitlements."""

from functions.runtime import api


@api.endpoint("GET /api/v1/account/me", api.p.AUTHENTICATED, budget=1)
def me(ctx: api.LoggedIn) -> api.AccountDetail:
    return api.AccountDetail.of_account(ctx.container.get_account().execute(ctx.user))
