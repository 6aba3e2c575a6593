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
    # From a preview: the change then charges exactly what the preview showed.
    proration_date: int | None = Field(default=None, ge=0, le=2**40)


class ChangePreview(BaseModel):
    # What the change would invoice now, in the currency's smallest unit.
    amount_due: int
    currency: str
    proration_date: int


@router.post(
    "/api/v1/billing/subscription/change",
    response_model=SubscriptionOut | ChangePreview,
    responses=problems(
        401, (409, "No live subscription, or already on this price"), 413, 415, 422, 503
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
        result = container.preview_plan_change().execute(
            auth.user, body.plan, interval, body.proration_date
        )
        return ChangePreview(
            amount_due=result.amount_due,
            currency=result.currency,
            proration_date=result.proration_date,
        )
    subscription = container.change_plan().execute(
        auth.user, body.plan, interval, body.proration_date
    )
    view = container.get_subscription().execute(
        auth.user.with_billing(auth.user.billing.with_subscription(subscription))
    )
    return SubscriptionOut.of(view.subscription, view.entitlements)


handler = lambda_handler(router)
