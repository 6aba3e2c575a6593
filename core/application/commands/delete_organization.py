from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_delete_org, require
from core.application.org_ports import OrganizationStore
from core.application.organizations import AuditTrail, load_membership
from core.application.ports import PaymentProvider
from core.domain.organization import AuditAction
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class DeleteOrganization:
    """An owner deletes the organization: its subscription ends at Stripe first
    (at once, its unused time credited, as a personal cancellation's
    ``cancel_now``), then the organization, its memberships and invitations go;
    the audit log stays for its retention. If Stripe cannot be reached nothing is
    deleted (``PaymentProviderUnavailable``), so nobody keeps paying for an
    organization that no longer exists."""

    orgs: OrganizationStore
    payments: PaymentProvider
    trail: AuditTrail

    def execute(self, actor: User, org_id: str) -> None:
        org, membership = load_membership(self.orgs, org_id, actor)
        require(can_delete_org(membership.role))
        subscription = org.billing.subscription
        if subscription is not None and not subscription.is_terminal:
            self.payments.cancel_now(
                subscription.id, idempotency_key=f"org-delete-{org.id}"
            )
        self.orgs.delete(
            org, self.trail.entry(org.id, actor, AuditAction.ORG_DELETED, org.id)
        )
