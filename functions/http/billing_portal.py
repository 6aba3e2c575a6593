"""A Stripe Customer Portal session for the user: `{url}`; 409 before any checkout."""

from functions.permissions import ASK_STRIPE
from functions.runtime.endpoint import ContainerDep, CurrentAuth, endpoint
from functions.runtime.problems import answer
from functions.runtime.schemas import RedirectUrl

NO_ACCOUNT = answer("No billing account yet: check out first", "no_billing_account")


@endpoint(
    "POST /api/v1/billing/portal",
    ASK_STRIPE,
    budget=1,
    stripe=1,
    problems={409: NO_ACCOUNT},
)
def billing_portal(container: ContainerDep, auth: CurrentAuth) -> RedirectUrl:
    return RedirectUrl(url=container.open_billing_portal().execute(auth.user))
