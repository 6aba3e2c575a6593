from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_invite, require
from core.application.org_ports import InvitationStore, OrganizationStore
from core.application.organizations import (
    AuditTrail,
    InvitationPolicy,
    load_membership,
)
from core.application.ports import Clock, IdGenerator, RateLimiter, UserRepository
from core.application.tasks import SEND_INVITATION, TaskSubmitter
from core.domain.organization import (
    AlreadyMember,
    AuditAction,
    Invitation,
    OrgRole,
)
from core.domain.user import Email, User


@dataclass(frozen=True, slots=True)
class InviteMember:
    """An admin invites an address as a member (an owner: with any role).

    Inviting an address again replaces its pending invitation (the old link stops
    working); inviting someone who is a member already is ``AlreadyMember``.
    Invitation emails are limited per organization and per address
    (``TooManyAttempts``), counted before anything is stored. The email goes out
    from a task that issues the link token as it sends, so the raw token is never
    stored (not even in the task)."""

    orgs: OrganizationStore
    invitations: InvitationStore
    users: UserRepository
    attempts: RateLimiter
    submitter: TaskSubmitter
    trail: AuditTrail
    ids: IdGenerator
    clock: Clock
    invitation_policy: InvitationPolicy

    def execute(self, actor: User, org_id: str, email: str, role: str) -> Invitation:
        org, membership = load_membership(self.orgs, org_id, actor)
        invited_role = OrgRole.parse(role)
        require(can_invite(membership.role, invited_role))
        address = Email(email)
        existing = self.users.get_by_email(address.key)
        if existing is not None:
            _, theirs = self.orgs.get_with_membership(org.id, existing.id)
            if theirs is not None:
                raise AlreadyMember()
        now = self.clock.now()
        policy = self.invitation_policy
        self.attempts.hit_all(
            [(policy.org_limit, org.id), (policy.address_limit, address.key)], now
        )
        invitation = Invitation(
            id=self.ids.new_id(),
            org_id=org.id,
            email=address,
            role=invited_role,
            invited_by=actor.id,
            created_at=now,
            expires_at=now + policy.ttl,
        )
        self.invitations.put(
            invitation,
            self.trail.entry(
                org.id,
                actor,
                AuditAction.INVITATION_CREATED,
                address.key,
                {"role": invited_role.value},
            ),
        )
        self.submitter.submit(
            SEND_INVITATION,
            {
                "org_id": org.id,
                "email": address.key,
                "invitation_id": invitation.id,
            },
            owner_id=actor.id,
        )
        return invitation
