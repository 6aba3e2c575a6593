from __future__ import annotations

from dataclasses import dataclass

from core.application.errors import EmailNotVerified
from core.application.org_ports import (
    InvitationStore,
    MyOrganization,
    OrganizationStore,
)
from core.application.organizations import AuditTrail
from core.application.ports import Clock
from core.domain.organization import (
    AuditAction,
    InvitationEmailMismatch,
    InvitationInvalid,
    Membership,
)
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class AcceptInvitation:
    """A logged-in user whose verified email is the invited address joins with the
    invited role (a newcomer signs up and verifies first: the link still works
    until it expires).

    The link works once: the join marks the invitation accepted in the same
    transaction, on condition that it is still the same pending, unexpired
    invitation, and takes a seat on condition that one is free
    (``SeatsExhausted``): however many accepts race, one token adds one member
    and the seats never overflow. Unknown, revoked or replaced:
    ``InvitationInvalid``; used: ``InvitationUsed``; expired:
    ``InvitationExpired``; another address: ``InvitationEmailMismatch``."""

    orgs: OrganizationStore
    invitations: InvitationStore
    trail: AuditTrail
    clock: Clock

    def execute(self, actor: User, token: str) -> MyOrganization:
        invitation = self.invitations.find(token) if token else None
        if invitation is None:
            raise InvitationInvalid()
        now = self.clock.now()
        invitation.check_usable(now)
        if not actor.email_verified:
            raise EmailNotVerified("verify your email address to accept it")
        if actor.email.key != invitation.email.key:
            raise InvitationEmailMismatch()
        membership = Membership(invitation.org_id, actor.id, invitation.role, now)
        org = self.orgs.join(
            invitation,
            membership,
            self.trail.entry(
                invitation.org_id,
                actor,
                AuditAction.INVITATION_ACCEPTED,
                actor.id,
                {"role": invitation.role.value, "email": invitation.email.key},
            ),
            now,
        )
        return MyOrganization(org, membership)
