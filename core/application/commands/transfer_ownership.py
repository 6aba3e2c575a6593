from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_transfer_ownership, require
from core.application.org_ports import OrganizationStore
from core.application.organizations import AuditTrail, load_membership
from core.domain.organization import AuditAction, MemberNotFound
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class TransferOwnership:
    """An owner makes another member an owner and becomes an admin, in one
    write. The new owner must be a member already (``MemberNotFound``)."""

    orgs: OrganizationStore
    trail: AuditTrail

    def execute(self, actor: User, org_id: str, user_id: str) -> None:
        org, mine = load_membership(self.orgs, org_id, actor)
        require(can_transfer_ownership(mine.role))
        if user_id == actor.id:
            return
        _, target = self.orgs.get_with_membership(org.id, user_id)
        if target is None:
            raise MemberNotFound()
        self.orgs.transfer_ownership(
            mine,
            target,
            self.trail.entry(
                org.id, actor, AuditAction.OWNERSHIP_TRANSFERRED, target.user_id
            ),
        )
