from __future__ import annotations

from dataclasses import dataclass

from core.application.errors import EmailNotVerified
from core.application.org_ports import MyOrganization, OrganizationStore
from core.application.organizations import AuditTrail
from core.application.ports import Clock, IdGenerator
from core.domain.billing import PlanCatalog
from core.domain.organization import (
    AuditAction,
    Membership,
    Organization,
    OrgName,
    OrgRole,
)
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class CreateOrganization:
    """A verified user creates an organization and becomes its first owner. It
    starts on the free plan, with that plan's ``seats`` limit (none if the plan
    names none)."""

    orgs: OrganizationStore
    trail: AuditTrail
    ids: IdGenerator
    clock: Clock
    catalog: PlanCatalog

    def execute(self, actor: User, name: str) -> MyOrganization:
        org_name = OrgName(name)
        if not actor.email_verified:
            raise EmailNotVerified("verify your email address before creating one")
        now = self.clock.now()
        free = self.catalog.free
        org = Organization(
            id=self.ids.new_id(),
            name=org_name,
            created_at=now,
            created_by=actor.id,
            plan_key=free.key,
            seat_limit=free.seat_limit,
        )
        owner = Membership(org.id, actor.id, OrgRole.OWNER, now)
        stored = self.orgs.create(
            org,
            owner,
            self.trail.entry(
                org.id, actor, AuditAction.ORG_CREATED, org.id, {"name": org_name.value}
            ),
        )
        return MyOrganization(stored, owner)
