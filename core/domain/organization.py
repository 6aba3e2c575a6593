"""Organizations: teams of users with roles of their own, invitations, an audit log.

A join beyond the plan's seats is ``core.domain.seats.SeatsExhausted``.

Organization roles (``owner``, ``admin``, ``member``) are separate from the platform
roles of ``core.domain.user``: a platform admin is nobody in an organization they do
not belong to.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from core.domain.billing import Billing
from core.domain.errors import DomainError
from core.domain.user import Email


class OrgError(DomainError):
    """Base of the organization errors; each has a default message."""

    default_message = "the organization refused the change"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class InvalidOrgName(OrgError):
    code = "invalid_org_name"
    default_message = "the name must be 1 to 100 visible characters"


class InvalidOrgRole(OrgError):
    code = "invalid_org_role"
    default_message = "the role must be owner, admin or member"


class OrganizationNotFound(OrgError):
    """No such organization, or one the caller is not a member of: the two are
    never told apart (a 404, not a 403 that confirms the organization exists)."""

    code = "organization_not_found"
    default_message = "no such organization"


class MemberNotFound(OrgError):
    code = "member_not_found"
    default_message = "no such member in this organization"


class LastOwner(OrgError):
    """An organization always keeps at least one owner."""

    code = "last_owner"
    default_message = (
        "the last owner cannot leave, be removed or be demoted: transfer the "
        "ownership first"
    )


class AlreadyMember(OrgError):
    code = "already_member"
    default_message = "this person is already a member of the organization"


class InvitationInvalid(OrgError):
    """Unknown, revoked or replaced: the link names no pending invitation."""

    code = "invitation_invalid"
    default_message = "this invitation is invalid"


class InvitationExpired(OrgError):
    code = "invitation_expired"
    default_message = "this invitation has expired: ask for a new one"


class InvitationUsed(OrgError):
    code = "invitation_used"
    default_message = "this invitation was used already"


class InvitationEmailMismatch(OrgError):
    """The invitation was sent to another address than the user's verified one."""

    code = "invitation_email_mismatch"
    default_message = (
        "this invitation was sent to another email address: log in with that "
        "account, or verify that address first"
    )


class OrgRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"

    @classmethod
    def parse(cls, value: str) -> OrgRole:
        try:
            return cls(value)
        except ValueError:
            raise InvalidOrgRole(f"unknown organization role {value!r}") from None


ORG_NAME_MAX = 100
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class OrgName:
    """An organization's display name: 1 to 100 characters once trimmed, no control
    or invisible characters (they make look-alike names)."""

    value: str

    def __post_init__(self) -> None:
        trimmed = self.value.strip()
        if trimmed != self.value:
            object.__setattr__(self, "value", trimmed)
        if not 1 <= len(trimmed) <= ORG_NAME_MAX:
            raise InvalidOrgName()
        if any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in trimmed):
            raise InvalidOrgName(
                "the name must not contain control or invisible characters"
            )

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Organization:
    """A team. ``seats_used`` counts the members; ``seat_limit`` is what the plan
    allows (``None``: no limit); ``owners_count`` counts the owners. Both counts are
    kept by the store in the same transaction as each membership change, so their
    conditions (a free seat, another owner left) hold under concurrency.
    ``billing`` is the Stripe customer and subscription, as for a person."""

    id: str
    name: OrgName
    created_at: datetime
    created_by: str
    plan_key: str
    seat_limit: int | None = None
    seats_used: int = 0
    owners_count: int = 0
    billing: Billing = field(default_factory=Billing)
    version: int = 0

    def renamed(self, name: OrgName) -> Organization:
        return replace(self, name=name)

    @property
    def seats_left(self) -> int | None:
        if self.seat_limit is None:
            return None
        return max(0, self.seat_limit - self.seats_used)


@dataclass(frozen=True, slots=True)
class Membership:
    org_id: str
    user_id: str
    role: OrgRole
    joined_at: datetime

    def with_role(self, role: OrgRole) -> Membership:
        return replace(self, role=role)


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"


@dataclass(frozen=True, slots=True)
class Invitation:
    """An invitation of an email address into an organization with a role.

    One per organization and address: inviting again replaces it (a new ``id``).
    Its link token exists only in the email; the store keeps its hash, set when the
    email is sent (``token_hash`` is ``None`` until then). Accepting it marks it
    ``accepted`` (kept until it expires, so a second use says "used")."""

    id: str
    org_id: str
    email: Email
    role: OrgRole
    invited_by: str
    created_at: datetime
    expires_at: datetime
    token_hash: str | None = None
    status: InvitationStatus = InvitationStatus.PENDING
    accepted_by: str | None = None

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def check_usable(self, now: datetime) -> None:
        """Raise why this invitation cannot be accepted at ``now``, if it cannot."""
        if self.status is InvitationStatus.ACCEPTED:
            raise InvitationUsed()
        if self.is_expired(now):
            raise InvitationExpired()


class AuditAction(StrEnum):
    """What an audit entry records (``org.*`` and ``member.*`` in an organization's
    log, ``user.*`` in the platform's)."""

    ORG_CREATED = "org.created"
    ORG_RENAMED = "org.renamed"
    ORG_DELETED = "org.deleted"
    INVITATION_CREATED = "invitation.created"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    MEMBER_LEFT = "member.left"
    OWNERSHIP_TRANSFERRED = "ownership.transferred"
    # Stripe reported the subscription started, ended, or changed its status, plan
    # or cancellation (not its quantity: the member changes that move it are logged).
    BILLING_SUBSCRIPTION_CHANGED = "billing.subscription_changed"
    # An admin or owner of the organization acted on its billing.
    BILLING_CHECKOUT_STARTED = "billing.checkout_started"
    BILLING_PLAN_CHANGED = "billing.plan_changed"
    BILLING_CANCELED = "billing.canceled"
    BILLING_RESUMED = "billing.resumed"
    USER_ADMIN_GRANTED = "user.admin_granted"
    USER_ADMIN_REVOKED = "user.admin_revoked"
    USER_ACTIVATED = "user.activated"
    USER_DEACTIVATED = "user.deactivated"
    USER_PASSWORD_CHANGED = "user.password_changed"  # noqa: S105 (an action name)


# The log of platform-admin actions on users, beside the organizations' logs.
PLATFORM_AUDIT = "platform"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded change: in log ``log`` (an organization's id, or
    ``PLATFORM_AUDIT``), ``actor`` (a user id) did ``action`` to ``target`` (a user
    id, an email, the organization) at ``at``, in request ``request_id``.
    ``details`` holds what else the action needs said (the new role). Kept until
    ``expires_at``, the log's retention."""

    id: str
    log: str
    actor: str
    action: AuditAction
    target: str
    at: datetime
    expires_at: datetime
    request_id: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)
