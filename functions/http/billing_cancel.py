"""POST /api/v1/billing/subscription/cancel : cancel at the end of the period
paid for."""

from fastapi import APIRouter

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems
from functions.runtime.schemas import SubscriptionOut

router = APIRouter(tags=["billing"])


@router.post(
    "/api/v1/billing/subscription/cancel",
    response_model=SubscriptionOut,
    responses=problems(401, (409, "No live subscription"), 413, 415, 503),
)
def billing_cancel(container: ContainerDep, auth: CurrentAuth) -> SubscriptionOut:
    subscription = container.cancel_subscription().execute(auth.user)
    view = container.get_subscription().execute(
        auth.user.with_billing(auth.user.billing.with_subscription(subscription))
    )
    return SubscriptionOut.of(view.subscription, view.entitlements)


handler = lambda_handler(router)
