"""The plan catalog, read from configuration (JSON) once per cold start.

The file is ``STRATA_PLANS_FILE``, else ``plans.json`` beside this module. Pydantic
checks its shape here, at the edge; the domain gets plain ``Plan`` objects.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.domain.billing import Interval, Plan, PlanCatalog, Price
from functions.runtime.settings import Settings, get_settings

DEFAULT_PLANS_FILE = Path(__file__).with_name("plans.json")


class _PriceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    interval: Literal["month", "year"]
    currency: str = Field(pattern=r"^[a-z]{3}$")
    unit_amount: int = Field(ge=0)


class _PlanConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    name: str = Field(min_length=1)
    features: list[str] = []
    limits: dict[str, int] = {}
    prices: list[_PriceConfig] = []
    bank_transfer: bool = False
    trial_days: int = Field(default=0, ge=0, le=730)
    # Priced per seat (an organization's members); needs limits.seats >= 1.
    per_seat: bool = False


class _LegacyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str = Field(min_length=1)
    interval: Literal["month", "year"] = "month"


class _CatalogConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    free_plan: str = "free"
    plans: list[_PlanConfig]
    # Prices no longer sold, still paid by subscribers: price id -> plan key (or
    # {"plan": key, "interval": "year"}). Their subscribers keep that plan.
    legacy: dict[str, str | _LegacyConfig] = {}


def parse_plan_catalog(text: str) -> PlanCatalog:
    config = _CatalogConfig.model_validate_json(text)
    return PlanCatalog(
        plans=tuple(
            Plan(
                key=plan.key,
                name=plan.name,
                features=frozenset(plan.features),
                limits=dict(plan.limits),
                prices=tuple(
                    Price(
                        id=price.id,
                        interval=Interval(price.interval),
                        currency=price.currency,
                        unit_amount=price.unit_amount,
                    )
                    for price in plan.prices
                ),
                bank_transfer=plan.bank_transfer,
                trial_days=plan.trial_days,
                per_seat=plan.per_seat,
            )
            for plan in config.plans
        ),
        free_key=config.free_plan,
        legacy={
            price_id: (
                (entry, Interval.MONTH)
                if isinstance(entry, str)
                else (entry.plan, Interval(entry.interval))
            )
            for price_id, entry in config.legacy.items()
        },
    )


def plans_path(settings: Settings) -> Path:
    return Path(settings.plans_file) if settings.plans_file else DEFAULT_PLANS_FILE


def load_plan_catalog(settings: Settings) -> PlanCatalog:
    return parse_plan_catalog(plans_path(settings).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def get_plan_catalog() -> PlanCatalog:
    """The process's plans, read once: for the public plans route, which needs
    nothing else and so builds no container (no AWS client, no secrets)."""
    return load_plan_catalog(get_settings())
