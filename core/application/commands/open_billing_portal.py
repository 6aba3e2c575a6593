from __future__ import annotations

from dataclasses import dataclass

from core.application.billing import BillingConfig
from core.application.errors import NoBillingAccount
from core.application.ports import PaymentProvider
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class OpenBillingPortal:
    """A Stripe Customer Portal session for the user's own customer (payment
    methods, invoices, cancellation); returns its URL. ``NoBillingAccount`` for a
    user who never checked out: there is nothing to manage yet."""

    provider: PaymentProvider
    config: BillingConfig

    def execute(self, user: User) -> str:
        customer_id = user.billing.customer_id
        if not customer_id:
            raise NoBillingAccount()
        return self.provider.create_portal(customer_id, self.config.portal_return_url)
