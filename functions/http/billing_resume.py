"""Take back a cancellation before the period ends; the subscription."""

from functions.permissions import AUTHENTICATED, STRIPE_API, USERS_WRITE
from functions.runtime.endpoint import ContainerDep, CurrentAuth, endpoint
from functions.runtime.schemas import SubscriptionOut


@endpoint(
    "POST /api/v1/billing/subscription/resume",
    (*AUTHENTICATED, USERS_WRITE, STRIPE_API),
    budget=2,
    stripe=1,
    problems=((409, "No live subscription"),),
)
def billing_resume(container: ContainerDep, auth: CurrentAuth) -> SubscriptionOut:
    return SubscriptionOut.of(container.resume_subscription().execute(auth.user))
