from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import BillingConfig
from core.application.errors import NoBillingAccount
from core.application.org_billing import load_billed_org
from core.application.org_ports import OrganizationStore
from core.application.ports import PaymentProvider
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class OpenOrgBillingPortal:
    """A Stripe Customer Portal session for the organization's customer, for its
    admins and owners; returns its URL. ``NoBillingAccount`` before its first
    checkout."""

    orgs: OrganizationStore
    provider: PaymentProvider
    config: BillingConfig

    def execute(self, actor: User, org_id: str) -> str:
        org = load_billed_org(self.orgs, org_id, actor)
        customer_id = org.billing.customer_id
        if not customer_id:
            raise NoBillingAccount()
        return self.provider.create_portal(customer_id, self.config.portal_return_url)
