"""A Stripe Customer Portal session for the user: `{url}`."""

from functions.permissions import AUTHENTICATED, STRIPE_API
from functions.runtime.endpoint import ContainerDep, CurrentAuth, endpoint
from functions.runtime.schemas import RedirectUrl


@endpoint(
    "POST /api/v1/billing/portal",
    (*AUTHENTICATED, STRIPE_API),
    budget=1,
    stripe=1,
    problems=((409, "No billing account yet: check out first"),),
)
def billing_portal(container: ContainerDep, auth: CurrentAuth) -> RedirectUrl:
    return RedirectUrl(url=container.open_billing_portal().execute(auth.user))
