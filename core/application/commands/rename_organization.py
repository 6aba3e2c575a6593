from __future__ import annotations

from dataclasses import dataclass

from core.application.authorization import can_rename_org, require
from core.application.org_ports import OrganizationStore
from core.application.organizations import AuditTrail, load_membership
from core.domain.organization import AuditAction, Organization, OrgName
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class RenameOrganization:
    """An admin or owner renames the organization (versioned: a rename racing
    another answers ``ConcurrentUpdate``)."""

    orgs: OrganizationStore
    trail: AuditTrail

    def execute(self, actor: User, org_id: str, name: str) -> Organization:
        org, membership = load_membership(self.orgs, org_id, actor)
        require(can_rename_org(membership.role))
        new_name = OrgName(name)
        if new_name == org.name:
            return org
        return self.orgs.rename(
            org.renamed(new_name),
            self.trail.entry(
                org.id,
                actor,
                AuditAction.ORG_RENAMED,
                org.id,
                {"from": org.name.value, "to": new_name.value},
            ),
        )
