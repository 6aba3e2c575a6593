from __future__ import annotations

import logging
from dataclasses import dataclass

from core.application.errors import (
    ConcurrentUpdate,
    CustomerMissing,
    EmailNotVerified,
    SubscriptionExists,
)
from core.application.org_billing import ATTEMPTS, OrgBillingStore, load_billed_org
from core.application.org_ports import AuditLog, OrganizationStore
from core.application.organizations import AuditTrail
from core.application.ports import IdGenerator, PaymentProvider
from core.application.seat_billing import SeatBilling
from core.domain.billing import Interval, SubscriptionStatus
from core.domain.organization import AuditAction, Organization, OrganizationNotFound
from core.domain.user import User

logger = logging.getLogger("strata.billing")

# A stored subscription in one of these may be replaced by a new checkout.
_REPLACEABLE = frozenset(
    {
        SubscriptionStatus.INCOMPLETE,
        SubscriptionStatus.INCOMPLETE_EXPIRED,
        SubscriptionStatus.CANCELED,
    }
)


@dataclass(frozen=True, slots=True)
class StartOrgCheckout:
    """An organization's admin or owner starts its subscription; returns the
    Checkout URL. A per-seat plan is bought for as many seats as the organization
    has members (``SeatBilling.start_checkout``), any other for one.

    The organization gets one Stripe customer, made on first use under a key made
    from its id (two admins at once get the same customer from Stripe) and stored
    on it with its claim, on condition of the version read. Members cannot
    (``PermissionDenied``), non-members see no organization
    (``OrganizationNotFound``), an unverified admin cannot pay
    (``EmailNotVerified``), and a live subscription is changed, not bought twice
    (``SubscriptionExists``). Nothing changes for the organization until
    Stripe's webhook says the purchase is done.

    Once Stripe has made the session, ``billing.checkout_started`` (by whom,
    which plan) is appended to the organization's log. Alone, not in a
    transaction: starting a checkout stores no billing state (the customer, on
    first use, is stored before Stripe is asked for the session, and the
    subscription comes with the webhook, which logs it)."""

    orgs: OrganizationStore
    org_billing: OrgBillingStore
    provider: PaymentProvider
    seats: SeatBilling
    ids: IdGenerator
    trail: AuditTrail
    log: AuditLog

    def execute(
        self,
        actor: User,
        org_id: str,
        plan_key: str,
        interval: Interval,
        currency: str,
    ) -> str:
        org = load_billed_org(self.orgs, org_id, actor)
        if not actor.email_verified:
            raise EmailNotVerified()
        plan = self.seats.plan(plan_key)
        subscription = org.billing.subscription
        if subscription is not None and subscription.status not in _REPLACEABLE:
            raise SubscriptionExists()
        org, customer_id = self._customer(org, actor, replacing=None)
        # One trial per organization: not again after a subscription ended.
        trial_days = plan.trial_days if subscription is None else 0
        try:
            url = self._checkout(
                org, customer_id, plan_key, interval, currency, trial_days
            )
        except CustomerMissing:
            logger.warning(
                "stored stripe customer of the organization is gone: making a new one",
                extra={"org_id": org.id},
            )
            org, customer_id = self._customer(org, actor, replacing=customer_id)
            url = self._checkout(
                org, customer_id, plan_key, interval, currency, trial_days
            )
        details = {"plan": plan_key, "interval": interval.value, "currency": currency}
        self.log.append(
            self.trail.entry(
                org.id, actor, AuditAction.BILLING_CHECKOUT_STARTED, org.id, details
            )
        )
        return url

    def _checkout(
        self,
        org: Organization,
        customer_id: str,
        plan_key: str,
        interval: Interval,
        currency: str,
        trial_days: int,
    ) -> str:
        return self.seats.start_checkout(
            org_id=org.id,
            customer_id=customer_id,
            plan_key=plan_key,
            interval=interval,
            currency=currency,
            member_count=org.seats_used,
            # A fresh key per attempt: a client's retry of this call reuses it
            # inside the SDK, a later attempt is a new purchase.
            idempotency_key=f"checkout-org-{org.id}-{self.ids.new_id()}",
            trial_days=trial_days,
        )

    def _customer(
        self, org: Organization, actor: User, replacing: str | None
    ) -> tuple[Organization, str]:
        """The organization's customer: the stored one, else one made and stored
        (``replacing``: in place of one Stripe no longer has, under a key naming
        it, since the first key would replay the deleted customer)."""
        if org.billing.customer_id and org.billing.customer_id != replacing:
            return org, org.billing.customer_id
        key = f"customer-org-{org.id}"
        if replacing is not None:
            key = f"{key}-after-{replacing}"
        # The customer's email is the admin's who set up billing (the invoices'
        # recipient until changed in the portal); its metadata names that admin.
        customer_id = self.provider.create_customer(
            actor.id, actor.email.value, idempotency_key=key
        )
        current = org
        for _ in range(ATTEMPTS):
            stored = current.billing.customer_id
            if stored is not None and stored != replacing:
                return current, stored  # another request stored one meanwhile
            try:
                return self.org_billing.attach_customer(
                    current, customer_id
                ), customer_id
            except ConcurrentUpdate:
                reloaded = self.orgs.get(current.id)
                if reloaded is None:
                    raise OrganizationNotFound() from None
                current = reloaded
        raise ConcurrentUpdate()
