"""The logged-in user's own account: who they are, their plan, subscription and
entitlements."""

from functions.permissions import AUTHENTICATED
from functions.runtime.endpoint import ContainerDep, CurrentAuth, endpoint
from functions.runtime.schemas import AccountDetail


@endpoint("GET /api/v1/account/me", AUTHENTICATED, budget=1)
def me(container: ContainerDep, auth: CurrentAuth) -> AccountDetail:
    return AccountDetail.of_account(container.get_account().execute(auth.user))
