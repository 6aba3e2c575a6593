"""Platform-admin actions on users go to the platform's audit log, which only
super admins read."""

from __future__ import annotations

import pytest

from core.application.commands.activate_user import ActivateUser
from core.application.commands.change_password import ChangePassword
from core.application.commands.deactivate_user import DeactivateUser
from core.application.commands.grant_admin import GrantAdmin
from core.application.commands.revoke_admin import RevokeAdmin
from core.application.errors import PermissionDenied
from core.application.organizations import AuditTrail, PlatformAudit
from core.application.queries.read_platform_audit_log import ReadPlatformAuditLog
from core.domain.organization import PLATFORM_AUDIT, AuditAction
from core.domain.password import PasswordPolicy
from core.domain.user import Role
from tests.fakes import (
    FakeClock,
    FakeCursorCodec,
    FakePasswordHasher,
    InMemoryAuditLog,
    InMemoryRateLimiter,
    InMemorySessionStore,
    InMemoryUserRepository,
)
from tests.unit.application.conftest import OpenSession, Seed


@pytest.fixture
def platform(audit_log: InMemoryAuditLog, trail: AuditTrail) -> PlatformAudit:
    return PlatformAudit(audit_log, trail)


def test_admin_actions_on_users_are_recorded_in_order(
    seed: Seed,
    open_session: OpenSession,
    users: InMemoryUserRepository,
    sessions: InMemorySessionStore,
    hasher: FakePasswordHasher,
    clock: FakeClock,
    platform: PlatformAudit,
    audit_log: InMemoryAuditLog,
) -> None:
    root, bobby = seed("root1", Role.SUPER_ADMIN), seed("bobby")
    root_session, _ = open_session(root)

    GrantAdmin(users, platform).execute(root, "bobby")
    RevokeAdmin(users, platform).execute(root, "bobby")
    DeactivateUser(users, sessions, platform).execute(root, "bobby")
    ActivateUser(users, platform).execute(root, "bobby")
    ChangePassword(
        users,
        sessions,
        hasher,
        PasswordPolicy(min_length=8),
        InMemoryRateLimiter(),
        clock,
        platform_audit=platform,
    ).execute(root, root_session, "bobby", "a new password", None)

    entries = audit_log.entries(PLATFORM_AUDIT)
    assert [e.action for e in entries] == [
        AuditAction.USER_ADMIN_GRANTED,
        AuditAction.USER_ADMIN_REVOKED,
        AuditAction.USER_DEACTIVATED,
        AuditAction.USER_ACTIVATED,
        AuditAction.USER_PASSWORD_CHANGED,
    ]
    assert {(e.actor, e.target) for e in entries} == {(root.id, bobby.id)}


def test_an_action_that_changes_nothing_records_nothing(
    seed: Seed,
    users: InMemoryUserRepository,
    platform: PlatformAudit,
    audit_log: InMemoryAuditLog,
) -> None:
    root = seed("root1", Role.SUPER_ADMIN)
    seed("bobby")

    ActivateUser(users, platform).execute(root, "bobby")

    assert audit_log.entries(PLATFORM_AUDIT) == []


def test_only_a_super_admin_reads_the_platform_log(
    seed: Seed,
    users: InMemoryUserRepository,
    platform: PlatformAudit,
    audit_log: InMemoryAuditLog,
    cursors: FakeCursorCodec,
    clock: FakeClock,
) -> None:
    root, admin = seed("root1", Role.SUPER_ADMIN), seed("admin1", Role.ADMIN)
    seed("bobby")
    DeactivateUser(users, InMemorySessionStore(users), platform).execute(admin, "bobby")
    read = ReadPlatformAuditLog(audit_log, cursors, clock)

    page = read.execute(root, 10, None)

    assert [e.action for e in page.items] == [AuditAction.USER_DEACTIVATED]
    with pytest.raises(PermissionDenied):
        read.execute(admin, 10, None)
