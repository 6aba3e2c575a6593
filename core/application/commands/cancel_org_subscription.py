from __future__ import annotations

from dataclasses import dataclass

from core.application.org_billing import CancelAtPeriodEnd, OrgSubscriptionView
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class CancelOrgSubscription:
    """An organization's admin or owner cancels its subscription at the end of
    the period paid for: the plan (and its seats) stay until then.
    ``NoSubscription`` without a live one; asking twice is harmless."""

    cancel: CancelAtPeriodEnd

    def execute(self, actor: User, org_id: str) -> OrgSubscriptionView:
        return self.cancel.execute(actor, org_id, cancel=True)
