from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_change_org_role, require
from core.application.org_ports import OrganizationStore
from core.application.organizations import AuditTrail, load_membership
from core.domain.organization import AuditAction, MemberNotFound, Membership, OrgRole
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class ChangeMemberRole:
    """Give a member another role: owners change anyone's (their own included);
    admins only a member's, and only to member. The last owner cannot be demoted
    (``LastOwner``, checked in the same write, so two owners demoting each other
    at once leave one)."""

    orgs: OrganizationStore
    trail: AuditTrail

    def execute(self, actor: User, org_id: str, user_id: str, role: str) -> Membership:
        org, mine = load_membership(self.orgs, org_id, actor)
        new_role = OrgRole.parse(role)
        target = mine if user_id == actor.id else self._member(org.id, user_id)
        require(can_change_org_role(mine.role, target.role, new_role))
        if target.role is new_role:
            return target
        return self.orgs.change_role(
            target,
            new_role,
            self.trail.entry(
                org.id,
                actor,
                AuditAction.MEMBER_ROLE_CHANGED,
                target.user_id,
                {"from": target.role.value, "to": new_role.value},
            ),
        )

    def _member(self, org_id: str, user_id: str) -> Membership:
        _, membership = self.orgs.get_with_membership(org_id, user_id)
        if membership is None:
            raise MemberNotFound()
        return membership
