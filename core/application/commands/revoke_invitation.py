from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_invite, require
from core.application.org_ports import InvitationStore, OrganizationStore
from core.application.organizations import AuditTrail, load_membership
from core.domain.errors import DomainError
from core.domain.organization import (
    AuditAction,
    InvitationInvalid,
    InvitationStatus,
)
from core.domain.user import Email, User


@dataclass(frozen=True, slots=True)
class RevokeInvitation:
    """An admin revokes a pending member invitation (an owner: any), by address;
    its link stops working. No pending invitation for the address is
    ``InvitationInvalid``."""

    orgs: OrganizationStore
    invitations: InvitationStore
    trail: AuditTrail

    def execute(self, actor: User, org_id: str, email: str) -> None:
        org, membership = load_membership(self.orgs, org_id, actor)
        try:
            key = Email(email).key
        except DomainError:
            raise InvitationInvalid() from None
        invitation = self.invitations.get(org.id, key)
        if invitation is None or invitation.status is not InvitationStatus.PENDING:
            raise InvitationInvalid()
        require(can_invite(membership.role, invitation.role))
        self.invitations.revoke(
            invitation,
            self.trail.entry(org.id, actor, AuditAction.INVITATION_REVOKED, key),
        )
