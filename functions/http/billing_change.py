"""Move to another plan or interval, prorated: the new subscription; with
`?preview=true`, only what it would invoice now."""

from typing import Literal

from fastapi import Query
from pydantic import BaseModel, Field

from core.domain.billing import Interval
from functions.permissions import CHANGE_BILLING
from functions.runtime.endpoint import ContainerDep, CurrentAuth, endpoint
from functions.runtime.problems import answer
from functions.runtime.schemas import Body, SubscriptionOut

SAME = answer(
    "No live subscription, or already on this price",
    *("no_subscription", "already_subscribed", "concurrent_update"),
)
UNPAID = "`payment_failed`: not paid, so not applied; pay at `payment_url`"
INVALID = "Invalid input, or `invalid_proration_token`: forged, stale or foreign"
PLAN = ("invalid_input", "invalid_proration_token", "unknown_plan", "price_unavailable")


class ChangeRequest(Body):
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


# Authenticate, store what Stripe answered (a preview only authenticates).
@endpoint(
    "POST /api/v1/billing/subscription/change",
    CHANGE_BILLING,
    budget=2,
    stripe=1,
    counts={402: "PaymentsFailed"},
    sample={"query": {"preview": "true"}, "body": {"plan": "business"}},
    problems={
        402: answer(UNPAID, "payment_failed"),
        409: SAME,
        422: answer(INVALID, *PLAN),
    },
)
def billing_change(
    body: ChangeRequest,
    container: ContainerDep,
    auth: CurrentAuth,
    preview: bool = Query(default=False, description="Only show the proration"),
) -> SubscriptionOut | ChangePreview:
    interval = Interval(body.interval)
    if preview:
        shown = container.preview_plan_change().execute(auth.user, body.plan, interval)
        return ChangePreview.model_validate(shown, from_attributes=True)
    return SubscriptionOut.of(
        container.change_plan().execute(
            auth.user, body.plan, interval, body.proration_token
        )
    )
