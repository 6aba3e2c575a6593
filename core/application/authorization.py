"""Who may do what to whom: every permission rule of the API, in one place.

Rules are small named predicates over (subject, target); interactors call them, and
``require`` turns a refusal into ``PermissionDenied``.
"""

from __future__ import annotations

from core.application.errors import PermissionDenied
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


def can_see_task(subject: User, task: Task) -> bool:
    """A task is seen by its owner and by admins (system tasks, with no owner,
    included); to anyone else it does not exist."""
    return task.owner_id == subject.id or is_admin(subject)


def require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied()
