from __future__ import annotations

from dataclasses import dataclass

from core.domain.billing import Plan, PlanCatalog


@dataclass(frozen=True, slots=True)
class ListPlans:
    """Every plan, free first as configured: public, reads nothing."""

    catalog: PlanCatalog

    def execute(self) -> tuple[Plan, ...]:
        return self.catalog.plans
