"""POST /api/v1/billing/subscription/resume : take back a cancellation before the
period ends."""

from fastapi import APIRouter

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems
from functions.runtime.schemas import SubscriptionOut

router = APIRouter(tags=["billing"])


@router.post(
    "/api/v1/billing/subscription/resume",
    response_model=SubscriptionOut,
    responses=problems(401, (409, "No live subscription"), 413, 415, 503),
)
def billing_resume(container: ContainerDep, auth: CurrentAuth) -> SubscriptionOut:
    subscription = container.resume_subscription().execute(auth.user)
    view = container.get_subscription().execute(
        auth.user.with_billing(auth.user.billing.with_subscription(subscription))
    )
    return SubscriptionOut.of(view.subscription, view.entitlements)


handler = lambda_handler(router)
