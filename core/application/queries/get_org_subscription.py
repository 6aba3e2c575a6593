from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import BillingConfig
from core.application.org_billing import OrgSubscriptionView, load_billed_org, org_view
from core.application.org_ports import OrganizationStore
from core.application.ports import Clock
from core.domain.user import User

__all__ = ["GetOrgSubscription", "OrgSubscriptionView"]


@dataclass(frozen=True, slots=True)
class GetOrgSubscription:
    """An organization's subscription as last stored (webhooks keep it current;
    the daily reconciliation repairs the seats), the plan in force now and its
    seats; for its admins and owners. One read: the organization with the
    caller's membership."""

    orgs: OrganizationStore
    config: BillingConfig
    clock: Clock

    def execute(self, actor: User, org_id: str) -> OrgSubscriptionView:
        org = load_billed_org(self.orgs, org_id, actor)
        return org_view(self.config, org, self.clock.now())
