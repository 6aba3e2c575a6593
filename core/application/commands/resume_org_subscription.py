from __future__ import annotations

from dataclasses import dataclass

from core.application.org_billing import CancelAtPeriodEnd, OrgSubscriptionView
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class ResumeOrgSubscription:
    """An organization's admin or owner takes back a cancellation at period end,
    before the period ends. ``NoSubscription`` once it has ended."""

    cancel: CancelAtPeriodEnd

    def execute(self, actor: User, org_id: str) -> OrgSubscriptionView:
        return self.cancel.execute(actor, org_id, cancel=False)
