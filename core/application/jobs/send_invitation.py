from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.application.account_emails import ORG_INVITATION, AccountLinks, describe
from core.application.jobs import text
from core.application.org_ports import InvitationStore, OrganizationStore
from core.application.ports import Clock, Mailer, UserRepository
from core.domain.organization import InvitationStatus


@dataclass(frozen=True, slots=True)
class SendInvitationJob:
    """Emails an invitation's link: payload ``{org_id, email, invitation_id}``.

    The token is issued here, as the email goes out, so it exists only as a hash in
    storage and in the recipient's mailbox. Sends nothing (``sent: false``) for an
    invitation that was revoked, replaced, accepted or has expired meanwhile, or
    whose organization is gone. A second run for one task issues a new token (the
    first link stops working), never a second valid one."""

    orgs: OrganizationStore
    invitations: InvitationStore
    users: UserRepository
    mailer: Mailer
    clock: Clock
    links: AccountLinks

    def run(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        org_id = text(payload, "org_id")
        invitation = self.invitations.get(org_id, text(payload, "email"))
        now = self.clock.now()
        if (
            invitation is None
            or invitation.id != text(payload, "invitation_id")
            or invitation.status is not InvitationStatus.PENDING
            or invitation.is_expired(now)
        ):
            return {"sent": False}
        org = self.orgs.get(org_id)
        if org is None:
            return {"sent": False}
        token = self.invitations.issue_token(invitation)
        if token is None:
            return {"sent": False}
        inviter = self.users.get(invitation.invited_by)
        self.mailer.send(
            invitation.email.value,
            ORG_INVITATION,
            {
                "org_name": org.name.value,
                "inviter": inviter.username.value if inviter else "A colleague",
                "role": invitation.role.value,
                "link": self.links.accept_invitation(token),
                "expires_in": describe(invitation.expires_at - now),
            },
        )
        return {"sent": True}
