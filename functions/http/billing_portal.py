"""POST /api/v1/billing/portal : a Stripe Customer Portal session for the user."""

from fastapi import APIRouter

from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems
from functions.runtime.schemas import RedirectUrl

router = APIRouter(tags=["billing"])


@router.post(
    "/api/v1/billing/portal",
    response_model=RedirectUrl,
    responses=problems(
        401, (409, "No billing account yet: check out first"), 413, 415, 503
    ),
)
def billing_portal(container: ContainerDep, auth: CurrentAuth) -> RedirectUrl:
    return RedirectUrl(url=container.open_billing_portal().execute(auth.user))


handler = lambda_handler(router)
