"""GET /api/v1/billing/plans : every plan, its features, limits and prices. Public."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from core.application.queries.list_plans import ListPlans
from core.domain.billing import PlanCatalog
from functions.runtime.app import lambda_handler
from functions.runtime.plans import get_plan_catalog
from functions.runtime.problems import problems

router = APIRouter(tags=["billing"])


class PriceOut(BaseModel):
    id: str
    interval: str
    currency: str
    # In the currency's smallest unit (cents), as Stripe counts.
    unit_amount: int


class PlanOut(BaseModel):
    key: str
    name: str
    features: list[str]
    limits: dict[str, int]
    prices: list[PriceOut]
    bank_transfer: bool
    trial_days: int


class PlanList(BaseModel):
    items: list[PlanOut]


async def _catalog() -> PlanCatalog:
    # Only the plans: this public route builds no container (no AWS, no secrets).
    return get_plan_catalog()


@router.get(
    "/api/v1/billing/plans", response_model=PlanList, responses=problems(413, 503)
)
def billing_plans(catalog: Annotated[PlanCatalog, Depends(_catalog)]) -> PlanList:
    plans = ListPlans(catalog).execute()
    return PlanList(
        items=[
            PlanOut(
                key=plan.key,
                name=plan.name,
                features=sorted(plan.features),
                limits=dict(plan.limits),
                prices=[
                    PriceOut(
                        id=price.id,
                        interval=price.interval.value,
                        currency=price.currency,
                        unit_amount=price.unit_amount,
                    )
                    for price in plan.prices
                ],
                bank_transfer=plan.bank_transfer,
                trial_days=plan.trial_days,
            )
            for plan in plans
        ]
    )


handler = lambda_handler(router)
