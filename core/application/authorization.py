"""Who may do what to whom: every permission rule of the API, in one place.

Rules are small named predicates over (subject, target); interactors call them, and
``require`` turns a refusal into ``PermissionDenied``.
"""

from __future__ import annotations

from core.application.errors import PermissionDenied
from core.domain.organization import OrgRole
from core.domain.task import Task
from core.domain.user import Role, User

_RANK = {Role.USER: 0, Role.ADMIN: 1, Role.SUPER_ADMIN: 2}


def is_admin(subject: User) -> bool:
    """Admins and super admins may list and create users."""
    return subject.role in (Role.ADMIN, Role.SUPER_ADMIN)


def can_manage(subject: User, target: User) -> bool:
    """A super admin manages admins and users, an admin manages users; nobody manages
    a super admin, and nobody manages themselves through the admin routes."""
    if subject.id == target.id or target.role is Role.SUPER_ADMIN:
        return False
    return _RANK[subject.role] > _RANK[target.role]


def can_create_with_role(subject: User, role: Role) -> bool:
    """Admins create users; only a super admin creates admins; nobody creates a super
    admin through the API (that is the management command's job)."""
    if role is Role.USER:
        return is_admin(subject)
    if role is Role.ADMIN:
        return subject.role is Role.SUPER_ADMIN
    return False


def can_change_admin_rights(subject: User, target: User) -> bool:
    """Only a super admin grants or revokes admin, and never on a super admin."""
    return subject.role is Role.SUPER_ADMIN and can_manage(subject, target)


def can_set_password(subject: User, target: User) -> bool:
    """Everyone sets their own password; an admin sets a subordinate's."""
    return subject.id == target.id or can_manage(subject, target)


def can_read_platform_audit(subject: User) -> bool:
    """Only super admins read the platform's audit log of admin actions."""
    return subject.role is Role.SUPER_ADMIN


def can_see_task(subject: User, task: Task) -> bool:
    """A task is seen by its owner and by admins (system tasks, with no owner,
    included); to anyone else it does not exist."""
    return task.owner_id == subject.id or is_admin(subject)


# -- organizations ----------------------------------------------------------------
# Rules over the organization roles (``OrgRole``), which are separate from the
# platform ones above: a platform admin has no say in an organization they are not
# a member of. A non-member never reaches these rules: to them the organization does
# not exist (``OrganizationNotFound``). The last-owner rule is not here: it depends
# on the other owners, so the store checks it in the same write as the change.

_ORG_RANK = {OrgRole.MEMBER: 0, OrgRole.ADMIN: 1, OrgRole.OWNER: 2}


def can_read_org(subject: OrgRole) -> bool:
    """Every member reads the organization and its member list."""
    return subject in _ORG_RANK


def can_rename_org(subject: OrgRole) -> bool:
    """Admins and owners rename."""
    return _ORG_RANK[subject] >= _ORG_RANK[OrgRole.ADMIN]


def can_manage_org_billing(subject: OrgRole) -> bool:
    """Admins and owners subscribe, change and cancel the organization's plan."""
    return _ORG_RANK[subject] >= _ORG_RANK[OrgRole.ADMIN]


def can_read_audit_log(subject: OrgRole) -> bool:
    """Admins and owners read the organization's audit log."""
    return _ORG_RANK[subject] >= _ORG_RANK[OrgRole.ADMIN]


def can_delete_org(subject: OrgRole) -> bool:
    """Only an owner deletes the organization."""
    return subject is OrgRole.OWNER


def can_transfer_ownership(subject: OrgRole) -> bool:
    """Only an owner hands the ownership on."""
    return subject is OrgRole.OWNER


def can_manage_member(subject: OrgRole, target: OrgRole) -> bool:
    """Owners manage everyone (other owners included); admins manage members but
    not owners or other admins; members manage nobody."""
    if subject is OrgRole.OWNER:
        return True
    return subject is OrgRole.ADMIN and target is OrgRole.MEMBER


def can_grant_org_role(subject: OrgRole, role: OrgRole) -> bool:
    """Owners give any role; admins give only ``member`` (an admin cannot make
    another admin, nor an owner)."""
    return can_manage_member(subject, role)


def can_change_org_role(subject: OrgRole, target: OrgRole, new_role: OrgRole) -> bool:
    """Change ``target``'s role to ``new_role``: manage the target, and be allowed
    to give the new role."""
    return can_manage_member(subject, target) and can_grant_org_role(subject, new_role)


def can_remove_member(subject: OrgRole, target: OrgRole, *, itself: bool) -> bool:
    """Anyone may leave (``itself``); removing someone else needs managing them."""
    return itself or can_manage_member(subject, target)


def can_invite(subject: OrgRole, role: OrgRole) -> bool:
    """Invite someone with ``role``, or revoke such an invitation: admins invite
    members; owners invite with any role."""
    return can_grant_org_role(subject, role)


def require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied()
