"""Every plan, its features, limits and prices: `{items}`."""

from typing import Annotated

from fastapi import Depends
from pydantic import AfterValidator

from core.application.queries.list_plans import ListPlans
from core.domain.billing import PlanCatalog
from functions.runtime import api
from functions.runtime.plans import get_plan_catalog


class PriceOut(api.BaseModel):
    model_config = api.ConfigDict(from_attributes=True)
    id: str
    interval: str
    currency: str
    # In the currency's smallest unit (cents), as Stripe counts.
    unit_amount: int


class PlanOut(api.BaseModel):
    model_config = api.ConfigDict(from_attributes=True)
    key: str
    name: str
    features: Annotated[list[str], AfterValidator(sorted)]
    limits: dict[str, int]
    prices: list[PriceOut]
    bank_transfer: bool
    trial_days: int


class PlanList(api.BaseModel):
    items: list[PlanOut]


async def _catalog() -> PlanCatalog:
    # Only the plans: this public route builds no container (no AWS, no secrets).
    return get_plan_catalog()


# The plans are configuration: nothing to read (the file can still be unreadable).
@api.endpoint("GET /api/v1/billing/plans", budget=0, problems={503: ""})
def billing_plans(catalog: Annotated[PlanCatalog, Depends(_catalog)]) -> PlanList:
    return PlanList(items=ListPlans(catalog).execute())
