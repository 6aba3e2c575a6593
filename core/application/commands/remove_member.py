from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_remove_member, require
from core.application.org_ports import OrganizationStore
from core.application.organizations import AuditTrail, load_membership
from core.domain.organization import AuditAction, MemberNotFound
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class RemoveMember:
    """Remove a member (owners: anyone; admins: members), or leave (oneself),
    freeing the seat. The last owner can neither leave nor be removed
    (``LastOwner``)."""

    orgs: OrganizationStore
    trail: AuditTrail

    def execute(self, actor: User, org_id: str, user_id: str) -> None:
        org, mine = load_membership(self.orgs, org_id, actor)
        itself = user_id == actor.id
        if itself:
            target = mine
        else:
            _, found = self.orgs.get_with_membership(org.id, user_id)
            if found is None:
                raise MemberNotFound()
            target = found
        require(can_remove_member(mine.role, target.role, itself=itself))
        action = AuditAction.MEMBER_LEFT if itself else AuditAction.MEMBER_REMOVED
        self.orgs.remove(
            target,
            self.trail.entry(
                org.id, actor, action, target.user_id, {"role": target.role.value}
            ),
        )
