"""Ports of the organizations: the organizations with their members, the
invitations, the audit logs. Beside ``ports`` (same conventions: ``Position`` is a
storage position, opaque to the application; pages carry the next one or ``None``).

Every method that changes something takes the ``AuditEntry`` that records it and
writes it in the same transaction as the change, so the log never misses a change
and never records one that did not happen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.application.ports import Position
from core.domain.organization import (
    AuditEntry,
    Invitation,
    Membership,
    Organization,
    OrgRole,
)


@dataclass(frozen=True, slots=True)
class MembershipPage:
    items: Sequence[Membership]
    next_position: Position | None


@dataclass(frozen=True, slots=True)
class MyOrganization:
    organization: Organization
    membership: Membership


@dataclass(frozen=True, slots=True)
class MyOrganizationPage:
    items: Sequence[MyOrganization]
    next_position: Position | None


@dataclass(frozen=True, slots=True)
class InvitationPage:
    items: Sequence[Invitation]
    next_position: Position | None


@dataclass(frozen=True, slots=True)
class AuditPage:
    items: Sequence[AuditEntry]
    next_position: Position | None


class OrganizationStore(Protocol):
    """Organizations and their memberships.

    The organization keeps two counters that the writes below maintain in the same
    transaction as each membership change: ``seats_used`` (members) and
    ``owners_count``. Their conditions are what make the limits hold under
    concurrency: a join needs ``seats_used < seat_limit``; removing or demoting an
    owner needs ``owners_count > 1``. Listings Query (never Scan) and may lag a
    moment behind writes where they read a secondary index (``list_for_user``).
    A position from another listing raises ``InvalidCursor``.
    """

    def create(
        self, organization: Organization, owner: Membership, audit: AuditEntry
    ) -> Organization:
        """Store a new organization with ``owner`` as its first member and owner
        (``seats_used`` and ``owners_count`` 1), atomically; returns it as
        stored."""
        ...

    def get(self, org_id: str) -> Organization | None: ...

    def get_with_membership(
        self, org_id: str, user_id: str
    ) -> tuple[Organization | None, Membership | None]:
        """The organization and ``user_id``'s membership of it, in one round
        trip."""
        ...

    def list_for_user(
        self, user_id: str, limit: int, start: Position | None
    ) -> MyOrganizationPage:
        """One page of the organizations ``user_id`` belongs to, with their
        membership, ordered by organization id."""
        ...

    def list_members(
        self, org_id: str, limit: int, start: Position | None
    ) -> MembershipPage:
        """One page of the organization's members, ordered by user id."""
        ...

    def join(
        self,
        invitation: Invitation,
        membership: Membership,
        audit: AuditEntry,
        now: datetime,
    ) -> Organization:
        """Accept ``invitation`` for ``membership``, in one transaction: the
        invitation is marked accepted only if it is still the same pending,
        unexpired invitation (so one token adds one member, however many accepts
        race); the membership is added only if the user is not a member
        (``AlreadyMember``); ``seats_used`` goes up by one only while below the
        limit and below a seat hold that has not lapsed at ``now``
        (``OrgBillingStore.hold_seats``; ``SeatsExhausted``, naming the hold's
        plan and seats when it is the hold that is full); and ``owners_count``
        with it for an owner.
        A stale invitation raises ``InvitationUsed``, ``InvitationExpired`` or
        ``InvitationInvalid``; a missing organization ``OrganizationNotFound``.
        Returns the organization as stored after the join."""
        ...

    def change_role(
        self, membership: Membership, role: OrgRole, audit: AuditEntry
    ) -> Membership:
        """Give the member ``role``, only if their stored role is still
        ``membership.role`` (else ``ConcurrentUpdate``; ``MemberNotFound`` if they
        left). Demoting an owner needs another owner (``LastOwner``), checked in
        the same write."""
        ...

    def remove(self, membership: Membership, audit: AuditEntry) -> None:
        """Remove the member (``MemberNotFound`` if they are not one, or not with
        ``membership.role`` any more: ``ConcurrentUpdate``), freeing their seat;
        an owner only while another owner stays (``LastOwner``)."""
        ...

    def transfer_ownership(
        self, current: Membership, new_owner: Membership, audit: AuditEntry
    ) -> None:
        """``new_owner`` becomes an owner and ``current`` an admin, atomically, only
        if both still hold the roles given (``ConcurrentUpdate``; a member who left
        is ``MemberNotFound``)."""
        ...

    def rename(self, organization: Organization, audit: AuditEntry) -> Organization:
        """Store the new name if the stored version is still the one read (else
        ``ConcurrentUpdate``); returns the organization as stored."""
        ...

    def delete(self, organization: Organization, audit: AuditEntry) -> None:
        """Delete the organization, its memberships and its invitations; the
        audit log stays (until its retention runs out). The organization item
        goes first, with the audit entry (``OrganizationNotFound`` if it is gone
        already); the rest follows, so a failure half-way leaves nothing
        reachable."""
        ...


class InvitationStore(Protocol):
    """Invitations, one per organization and address. Link tokens are random and
    only their hash is stored, as for ``OneTimeTokens``."""

    def put(self, invitation: Invitation, audit: AuditEntry) -> None:
        """Store ``invitation``, replacing the organization's invitation of the same
        address (whose link stops working)."""
        ...

    def issue_token(self, invitation: Invitation) -> str | None:
        """A new random link token for ``invitation``, whose hash replaces any
        earlier one; the raw token exists only in the return. ``None`` if the
        invitation is no longer stored pending under this ``id`` (revoked,
        replaced, accepted)."""
        ...

    def get(self, org_id: str, email_key: str) -> Invitation | None: ...

    def find(self, token: str) -> Invitation | None:
        """The invitation whose current link token is ``token``, in whatever state
        (the caller tells pending from accepted or expired); ``None`` for an
        unknown, revoked or replaced token."""
        ...

    def list_pending(
        self, org_id: str, now: datetime, limit: int, start: Position | None
    ) -> InvitationPage:
        """One page of the organization's pending, unexpired invitations, by
        address (a Query)."""
        ...

    def revoke(self, invitation: Invitation, audit: AuditEntry) -> None:
        """Delete the invitation if it is still pending under this ``id``; else
        ``InvitationInvalid``."""
        ...


class AuditLog(Protocol):
    """Audit entries, append-only: an entry is written once, never changed, and
    read newest first. Each stays until its ``expires_at`` (storage TTL; reads
    skip expired ones, since TTL deletion lags)."""

    def append(self, entry: AuditEntry) -> None:
        """Record ``entry``; recording one id twice raises ``ConcurrentUpdate``."""
        ...

    def list(
        self, log: str, now: datetime, limit: int, start: Position | None
    ) -> AuditPage:
        """One page of ``log``'s entries, newest first (a Query)."""
        ...
