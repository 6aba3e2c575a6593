"""What the organization use cases share: loading the caller's membership (a
non-member sees no organization at all), the audit trail every change writes,
pages and cursors, the invitation limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Generic, TypeVar

from core.application.errors import InvalidPageRequest
from core.application.org_ports import AuditLog, OrganizationStore
from core.application.ports import Clock, CursorCodec, IdGenerator, Limit, Position
from core.domain.organization import (
    PLATFORM_AUDIT,
    AuditAction,
    AuditEntry,
    Membership,
    Organization,
    OrganizationNotFound,
)
from core.domain.user import User

MAX_PAGE = 100
T = TypeVar("T")


def load_membership(
    orgs: OrganizationStore, org_id: str, actor: User
) -> tuple[Organization, Membership]:
    """The organization and the actor's membership, in one read; to a non-member
    a missing organization and someone else's look the same
    (``OrganizationNotFound``, a 404 that does not confirm it exists)."""
    org, membership = orgs.get_with_membership(org_id, actor.id)
    if org is None or membership is None:
        raise OrganizationNotFound()
    return org, membership


@dataclass(frozen=True, slots=True)
class AuditTrail:
    """Makes the audit entries of the changes: who, what, to whom, when, in which
    request (``request_id`` reads the correlation id of the request or job under
    way), kept for ``retention``."""

    clock: Clock
    ids: IdGenerator
    retention: timedelta
    request_id: Callable[[], str | None] = field(default=lambda: None)

    def entry(
        self,
        log: str,
        actor: User | str,
        action: AuditAction,
        target: str,
        details: dict[str, str] | None = None,
    ) -> AuditEntry:
        """``actor``: the user who acted, or the name of the system that did
        (``stripe`` for what its webhooks report)."""
        now = self.clock.now()
        return AuditEntry(
            id=self.ids.new_id(),
            log=log,
            actor=actor if isinstance(actor, str) else actor.id,
            action=action,
            target=target,
            at=now,
            expires_at=now + self.retention,
            request_id=self.request_id(),
            details=details or {},
        )


@dataclass(frozen=True, slots=True)
class PlatformAudit:
    """The platform's audit log of admin actions on users, read by super admins.
    Written right after the change (the users live in another table)."""

    log: AuditLog
    trail: AuditTrail

    def record(
        self,
        actor: User,
        action: AuditAction,
        target: User,
        details: dict[str, str] | None = None,
    ) -> None:
        self.log.append(
            self.trail.entry(PLATFORM_AUDIT, actor, action, target.id, details)
        )


@dataclass(frozen=True, slots=True)
class InvitationPolicy:
    """Invitation emails: at most ``per_org`` per organization and ``per_address``
    per address (whatever the organization) per ``window``; a link works for
    ``ttl``."""

    per_org: int = 50
    per_address: int = 3
    window: timedelta = timedelta(hours=1)
    ttl: timedelta = timedelta(days=7)

    @property
    def org_limit(self) -> Limit:
        return Limit("invite-org", self.per_org, self.window)

    @property
    def address_limit(self) -> Limit:
        return Limit("invite-address", self.per_address, self.window)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidPageRequest()


def start_of(cursors: CursorCodec, cursor: str | None, scope: str) -> Position | None:
    return cursors.decode(cursor, scope) if cursor else None


def cursor_of(
    cursors: CursorCodec, position: Position | None, scope: str
) -> str | None:
    return cursors.encode(position, scope) if position is not None else None
