"""POST /api/v1/billing/subscription/change : move to another plan or interval,
prorated; with ``?preview=true``, only what it would invoice now."""

from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from core.domain.billing import Interval
from functions.runtime.app import lambda_handler
from functions.runtime.auth import ContainerDep, CurrentAuth
from functions.runtime.problems import problems
from functions.runtime.schemas import SubscriptionOut

router = APIRouter(tags=["billing"])


class ChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str = Field(min_length=1, max_length=32)
    interval: Literal["month", "year"] = "month"
    # From a preview (signed by the server, good for a few minutes): the change
    # then charges exactly what the preview showed. Without it: prorated now.
    proration_token: str | None = Field(default=None, min_length=1, max_length=2048)


class ChangePreview(BaseModel):
    # What the change would invoice now, in the currency's smallest unit.
    amount_due: int
    currency: str
    # Send it back with the change to be charged exactly ``amount_due``.
    proration_token: str


@router.post(
    "/api/v1/billing/subscription/change",
    response_model=SubscriptionOut | ChangePreview,
    responses=problems(
        401,
        (
            402,
            "`payment_failed`: not paid, so not applied; pay at `payment_url`",
        ),
        (409, "No live subscription, or already on this price"),
        413,
        415,
        (422, "Invalid input, or `invalid_proration_token`: forged, stale or foreign"),
        503,
    ),
)
def billing_change(
    body: ChangeRequest,
    container: ContainerDep,
    auth: CurrentAuth,
    preview: bool = Query(default=False, description="Only show the proration"),
) -> SubscriptionOut | ChangePreview:
    interval = Interval(body.interval)
    if preview:
        result = container.preview_plan_change().execute(auth.user, body.plan, interval)
        return ChangePreview(
            amount_due=result.amount_due,
            currency=result.currency,
            proration_token=result.proration_token,
        )
    subscription = container.change_plan().execute(
        auth.user, body.plan, interval, body.proration_token
    )
    view = container.get_subscription().execute(
        auth.user.with_billing(auth.user.billing.with_subscription(subscription))
    )
    return SubscriptionOut.of(view.subscription, view.entitlements)


handler = lambda_handler(router)
