"""The user's subscription and the plan in force."""

from functions.permissions import AUTHENTICATED
from functions.runtime.endpoint import ContainerDep, CurrentAuth, endpoint
from functions.runtime.schemas import SubscriptionOut


# Authenticate: the subscription came with the user.
@endpoint("GET /api/v1/billing/subscription", AUTHENTICATED, budget=1)
def billing_subscription(container: ContainerDep, auth: CurrentAuth) -> SubscriptionOut:
    return SubscriptionOut.of(container.get_subscription().execute(auth.user))
