from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from core.domain.billing import Entitlements
from core.domain.user import User

if TYPE_CHECKING:
    from core.application.billing import BillingConfig
    from core.application.ports import Clock


@dataclass(frozen=True, slots=True)
class AccountView:
    id: str
    username: str
    email: str
    role: str
    is_active: bool
    created_at: str
    email_verified: bool
    # Billing: the plan in force now and what it allows.
    plan: str
    subscription_status: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    entitlements: Entitlements


@dataclass(frozen=True, slots=True)
class GetAccount:
    """What a logged-in user sees of their own account, with the plan in force now
    (``free`` without a subscription, or once a failed payment's grace has run out).

    Authentication already loaded the user, billing state included, so this reads
    nothing more.
    """

    config: BillingConfig
    clock: Clock

    def execute(self, user: User) -> AccountView:
        rights = self.config.entitlements(user, self.clock.now())
        subscription = user.billing.subscription
        return AccountView(
            id=user.id,
            username=user.username.value,
            email=user.email.value,
            role=user.role.value,
            is_active=user.is_active,
            created_at=user.created_at.isoformat(),
            email_verified=user.email_verified,
            plan=rights.plan.key,
            subscription_status=(
                subscription.shown_status.value if subscription is not None else None
            ),
            current_period_end=(
                subscription.current_period_end if subscription is not None else None
            ),
            cancel_at_period_end=(
                subscription.cancel_at_period_end if subscription is not None else False
            ),
            entitlements=rights,
        )
