"""GET /api/v1/billing/subscription : the user's subscription and the plan in force."""

from fastapi import APIRouter

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems
from functions.runtime.schemas import SubscriptionOut

router = APIRouter(tags=["billing"])


@router.get(
    "/api/v1/billing/subscription",
    response_model=SubscriptionOut,
    responses=problems(401, 413, 503),
)
def billing_subscription(container: ContainerDep, auth: CurrentAuth) -> SubscriptionOut:
    view = container.get_subscription().execute(auth.user)
    return SubscriptionOut.of(view.subscription, view.entitlements)


handler = lambda_handler(router)
