from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import BillingConfig
from core.application.org_billing import (
    load_billed_org,
    org_change_target,
    seats_to_bill,
)
from core.application.org_ports import OrganizationStore
from core.application.plan_change import PlanChangeQuote, PlanChanger
from core.application.ports import Clock, CursorCodec, PaymentProvider
from core.domain.billing import Interval
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class PreviewOrgPlanChange:
    """What moving an organization's subscription to another plan or interval
    would invoice now, for its seats (as ``ChangeOrgPlan`` would bill them), and
    the signed token that makes the change charge exactly that. Its admins and
    owners only; changes nothing; refuses as ``ChangeOrgPlan`` does."""

    orgs: OrganizationStore
    provider: PaymentProvider
    config: BillingConfig
    cursors: CursorCodec
    clock: Clock

    def execute(
        self, actor: User, org_id: str, plan_key: str, interval: Interval
    ) -> PlanChangeQuote:
        org = load_billed_org(self.orgs, org_id, actor)
        target = org_change_target(org, plan_key, interval)
        changer = PlanChanger(self.provider, self.config, self.cursors, self.clock)
        changer.price(target)
        quantity = seats_to_bill(self.config.catalog, org, plan_key)
        return changer.quote(target, quantity=quantity)
