"""Every plan, its features, limits and prices: `{items}`."""

from typing import Annotated

from core.application.queries.list_plans import ListPlans
from functions.runtime import api


class PriceOut(api.FromAttributes):
    id: str
    interval: str
    currency: str
    # In the currency's smallest unit (cents), as Stripe counts.
    unit_amount: int


class PlanOut(api.FromAttributes):
    key: str
    name: str
    features: Annotated[list[str], api.AfterValidator(sorted)]
    limits: dict[str, int]
    prices: list[PriceOut]
    bank_transfer: bool
    trial_days: int


class PlanList(api.BaseModel):
    items: list[PlanOut]


# The plans are configuration: nothing to read (the file can still be unreadable),
# and no container to build (no AWS, no secrets).
@api.endpoint("GET /api/v1/billing/plans", budget=0, problems={503: ""})
def billing_plans(catalog: api.Plans) -> PlanList:
    return PlanList(items=ListPlans(catalog).execute())
