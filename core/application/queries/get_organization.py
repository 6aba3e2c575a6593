from __future__ import annotations

from dataclasses import dataclass

from core.application.org_ports import MyOrganization, OrganizationStore
from core.application.organizations import load_membership
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class GetOrganization:
    """A member reads the organization (name, plan, subscription, seats) with
    their role; to anyone else it does not exist (``OrganizationNotFound``)."""

    orgs: OrganizationStore

    def execute(self, actor: User, org_id: str) -> MyOrganization:
        org, membership = load_membership(self.orgs, org_id, actor)
        return MyOrganization(org, membership)
