"""Take back a cancellation before the period ends: the subscription."""

from functions.permissions import CHANGE_BILLING
from functions.runtime.endpoint import ContainerDep, CurrentAuth, endpoint
from functions.runtime.problems import NO_SUBSCRIPTION
from functions.runtime.schemas import SubscriptionOut


@endpoint(
    "POST /api/v1/billing/subscription/resume",
    CHANGE_BILLING,
    budget=2,
    stripe=1,
    problems={409: NO_SUBSCRIPTION},
)
def billing_resume(container: ContainerDep, auth: CurrentAuth) -> SubscriptionOut:
    return SubscriptionOut.of(container.resume_subscription().execute(auth.user))
