"""The organization stores against moto: every method, its conditions, and the
limits under real concurrency (20 accepts against a seat limit; two owners
demoting each other)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from core.adapters.dynamodb.models import dynamodb_client
from core.adapters.dynamodb.org_models import OrgItem, invitation_sk, org_pk
from core.adapters.dynamodb.orgs import (
    DynamoAuditLog,
    DynamoInvitationStore,
    DynamoOrganizationStore,
    token_hash,
)
from core.application.errors import ConcurrentUpdate, InvalidCursor
from core.domain.organization import (
    AlreadyMember,
    AuditAction,
    AuditEntry,
    Invitation,
    InvitationExpired,
    InvitationInvalid,
    InvitationStatus,
    InvitationUsed,
    LastOwner,
    MemberNotFound,
    Membership,
    Organization,
    OrganizationNotFound,
    OrgName,
    OrgRole,
)
from core.domain.seats import SeatsExhausted
from core.domain.user import Email
from tests.integration.conftest import EPOCH

NOW = EPOCH + timedelta(days=10)
_serial = itertools.count(1)
OWNER, ADMIN, MEMBER = OrgRole.OWNER, OrgRole.ADMIN, OrgRole.MEMBER


@pytest.fixture
def orgs(tables: None) -> DynamoOrganizationStore:
    return DynamoOrganizationStore()


@pytest.fixture
def invitations(tables: None) -> DynamoInvitationStore:
    return DynamoInvitationStore()


@pytest.fixture
def audit(tables: None) -> DynamoAuditLog:
    return DynamoAuditLog()


def entry(
    log: str, action: AuditAction = AuditAction.ORG_CREATED, *, at: Any = None
) -> AuditEntry:
    n = next(_serial)
    return AuditEntry(
        id=f"audit{n:06d}",
        log=log,
        actor="user-actor",
        action=action,
        target="target",
        at=at or NOW + timedelta(seconds=n),
        expires_at=NOW + timedelta(days=365),
        request_id=f"req-{n}",
    )


def member(org_id: str, user_id: str, role: OrgRole = MEMBER) -> Membership:
    return Membership(org_id, user_id, role, NOW)


MakeOrg = Callable[..., Organization]


@pytest.fixture
def make_org(orgs: DynamoOrganizationStore) -> MakeOrg:
    def make(owner: str = "owner", seat_limit: int | None = None) -> Organization:
        org_id = f"org{next(_serial):06d}"
        org = Organization(
            id=org_id,
            name=OrgName("Acme"),
            created_at=NOW,
            created_by=owner,
            plan_key="free",
            seat_limit=seat_limit,
        )
        return orgs.create(org, member(org_id, owner, OWNER), entry(org_id))

    return make


def invited(
    invitations: DynamoInvitationStore,
    org: Organization,
    email: str,
    role: OrgRole = MEMBER,
    *,
    expires_in: timedelta = timedelta(days=7),
) -> tuple[Invitation, str]:
    """A stored invitation whose email went out: it and its raw token."""
    invitation = Invitation(
        id=f"inv{next(_serial):06d}",
        org_id=org.id,
        email=Email(email),
        role=role,
        invited_by="owner",
        created_at=NOW,
        expires_at=NOW + expires_in,
    )
    invitations.put(invitation, entry(org.id, AuditAction.INVITATION_CREATED))
    token = invitations.issue_token(invitation)
    assert token is not None
    found = invitations.find(token)
    assert found is not None
    return found, token


def raw_org(org_id: str) -> dict[str, Any]:
    item: dict[str, Any] = dynamodb_client().get_item(
        TableName=OrgItem.Meta.table_name,
        Key={"pk": {"S": org_pk(org_id)}, "sk": {"S": "ORG"}},
        ConsistentRead=True,
    )["Item"]
    return item


def audit_actions(audit: DynamoAuditLog, log: str) -> list[AuditAction]:
    return [e.action for e in audit.list(log, NOW, 100, None).items]


# -- organizations and memberships -----------------------------------------------------


def test_a_created_org_reads_back_with_its_owner_and_counters(
    orgs: DynamoOrganizationStore, make_org: MakeOrg, audit: DynamoAuditLog
) -> None:
    org = make_org("alice", seat_limit=5)

    found, membership = orgs.get_with_membership(org.id, "alice")

    assert found == org
    assert (found.seats_used, found.owners_count, found.seat_limit) == (1, 1, 5)
    assert membership == member(org.id, "alice", OWNER)
    assert orgs.get(org.id) == org
    assert audit_actions(audit, org.id) == [AuditAction.ORG_CREATED]


def test_an_unknown_org_or_non_member_reads_as_none(
    orgs: DynamoOrganizationStore, make_org: MakeOrg
) -> None:
    org = make_org("alice")

    assert orgs.get("no-such-org") is None
    assert orgs.get_with_membership("no-such-org", "alice") == (None, None)
    assert orgs.get_with_membership(org.id, "mallory") == (org, None)


def test_creating_an_org_with_a_taken_id_stores_nothing_more(
    orgs: DynamoOrganizationStore, make_org: MakeOrg, audit: DynamoAuditLog
) -> None:
    org = make_org("alice")

    with pytest.raises(ConcurrentUpdate):
        orgs.create(org, member(org.id, "bob", OWNER), entry(org.id))

    assert orgs.get_with_membership(org.id, "bob") == (org, None)
    assert len(audit_actions(audit, org.id)) == 1


def test_my_orgs_are_listed_a_page_at_a_time_with_my_role(
    orgs: DynamoOrganizationStore, make_org: MakeOrg
) -> None:
    mine = [make_org("alice") for _ in range(5)]
    make_org("bob")

    seen: list[str] = []
    start = None
    for _ in range(5):
        page = orgs.list_for_user("alice", 2, start)
        assert all(item.membership.role is OWNER for item in page.items)
        seen += [item.organization.id for item in page.items]
        start = page.next_position
        if start is None:
            break

    assert seen == sorted(org.id for org in mine)


def test_a_position_from_another_users_listing_is_refused(
    orgs: DynamoOrganizationStore, make_org: MakeOrg
) -> None:
    for _ in range(3):
        make_org("alice")
    page = orgs.list_for_user("alice", 1, None)
    assert page.next_position is not None

    with pytest.raises(InvalidCursor):
        orgs.list_for_user("mallory", 1, page.next_position)


def test_members_are_listed_a_page_at_a_time_and_only_that_orgs(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
) -> None:
    org, other = make_org("alice"), make_org("zed")
    for name in ("bob", "carol", "dave"):
        invitation, _ = invited(invitations, org, f"{name}@example.com")
        orgs.join(invitation, member(org.id, name), entry(org.id), NOW)

    first = orgs.list_members(org.id, 3, None)
    assert first.next_position is not None
    second = orgs.list_members(org.id, 3, first.next_position)

    users = [m.user_id for m in [*first.items, *second.items]]
    assert users == ["alice", "bob", "carol", "dave"]
    assert second.next_position is None
    with pytest.raises(InvalidCursor):
        orgs.list_members(other.id, 3, first.next_position)


def test_joining_marks_the_invitation_used_and_takes_a_seat(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
    audit: DynamoAuditLog,
) -> None:
    org = make_org("alice", seat_limit=3)
    invitation, token = invited(invitations, org, "bob@example.com", ADMIN)

    stored = orgs.join(
        invitation,
        member(org.id, "bob", ADMIN),
        entry(org.id, AuditAction.INVITATION_ACCEPTED),
        NOW,
    )

    assert (stored.seats_used, stored.owners_count) == (2, 1)
    assert orgs.get_with_membership(org.id, "bob")[1] == member(org.id, "bob", ADMIN)
    used = invitations.find(token)
    assert used is not None
    assert (used.status, used.accepted_by) == (InvitationStatus.ACCEPTED, "bob")
    assert AuditAction.INVITATION_ACCEPTED in audit_actions(audit, org.id)


def test_a_used_token_cannot_join_again(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
) -> None:
    org = make_org("alice")
    invitation, _ = invited(invitations, org, "bob@example.com")
    orgs.join(invitation, member(org.id, "bob"), entry(org.id), NOW)

    with pytest.raises(InvitationUsed):
        orgs.join(invitation, member(org.id, "carol"), entry(org.id), NOW)

    assert orgs.get_with_membership(org.id, "carol")[1] is None
    assert raw_org(org.id)["seats_used"] == {"N": "2"}


def test_an_expired_invitation_cannot_join(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
) -> None:
    org = make_org("alice")
    invitation, _ = invited(invitations, org, "bob@example.com")

    with pytest.raises(InvitationExpired):
        orgs.join(
            invitation, member(org.id, "bob"), entry(org.id), NOW + timedelta(days=8)
        )
    assert orgs.get_with_membership(org.id, "bob")[1] is None


def test_a_replaced_invitation_cannot_join(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
) -> None:
    org = make_org("alice")
    old, old_token = invited(invitations, org, "bob@example.com")
    invited(invitations, org, "bob@example.com")

    assert invitations.find(old_token) is None
    with pytest.raises(InvitationInvalid):
        orgs.join(old, member(org.id, "bob"), entry(org.id), NOW)


def test_joining_twice_is_already_member_and_changes_nothing(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
) -> None:
    org = make_org("alice")
    invitation, _ = invited(invitations, org, "alice@example.com")

    with pytest.raises(AlreadyMember):
        orgs.join(invitation, member(org.id, "alice"), entry(org.id), NOW)

    assert raw_org(org.id)["seats_used"] == {"N": "1"}
    assert invitations.get(org.id, "alice@example.com") == invitation


def test_a_full_org_refuses_a_join(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
) -> None:
    org = make_org("alice", seat_limit=1)
    invitation, _ = invited(invitations, org, "bob@example.com")

    with pytest.raises(SeatsExhausted):
        orgs.join(invitation, member(org.id, "bob"), entry(org.id), NOW)

    assert invitations.get(org.id, "bob@example.com") == invitation


def test_a_deleted_org_refuses_a_join(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
) -> None:
    org = make_org("alice")
    invitation, _ = invited(invitations, org, "bob@example.com")
    orgs.delete(org, entry(org.id, AuditAction.ORG_DELETED))

    with pytest.raises((InvitationInvalid, OrganizationNotFound)):
        orgs.join(invitation, member(org.id, "bob"), entry(org.id), NOW)


def test_changing_a_role_keeps_the_owner_count(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
) -> None:
    org = make_org("alice")
    invitation, _ = invited(invitations, org, "bob@example.com")
    orgs.join(invitation, member(org.id, "bob"), entry(org.id), NOW)

    promoted = orgs.change_role(member(org.id, "bob"), OWNER, entry(org.id))
    assert raw_org(org.id)["owners_count"] == {"N": "2"}
    orgs.change_role(member(org.id, "alice", OWNER), ADMIN, entry(org.id))

    assert promoted.role is OWNER
    assert raw_org(org.id)["owners_count"] == {"N": "1"}
    assert orgs.get_with_membership(org.id, "alice")[1] == member(
        org.id, "alice", ADMIN
    )


def test_the_last_owner_cannot_be_demoted_or_removed(
    orgs: DynamoOrganizationStore, make_org: MakeOrg, audit: DynamoAuditLog
) -> None:
    org = make_org("alice")

    with pytest.raises(LastOwner):
        orgs.change_role(member(org.id, "alice", OWNER), ADMIN, entry(org.id))
    with pytest.raises(LastOwner):
        orgs.remove(member(org.id, "alice", OWNER), entry(org.id))

    assert orgs.get_with_membership(org.id, "alice")[1] == member(
        org.id, "alice", OWNER
    )
    assert len(audit_actions(audit, org.id)) == 1


def test_a_role_change_from_a_stale_read_is_refused(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
) -> None:
    org = make_org("alice")
    invitation, _ = invited(invitations, org, "bob@example.com")
    orgs.join(invitation, member(org.id, "bob"), entry(org.id), NOW)
    orgs.change_role(member(org.id, "bob"), ADMIN, entry(org.id))

    with pytest.raises(ConcurrentUpdate):
        orgs.change_role(member(org.id, "bob"), OWNER, entry(org.id))
    with pytest.raises(MemberNotFound):
        orgs.change_role(member(org.id, "nobody"), ADMIN, entry(org.id))


def test_removing_a_member_frees_the_seat(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
) -> None:
    org = make_org("alice", seat_limit=2)
    invitation, _ = invited(invitations, org, "bob@example.com")
    orgs.join(invitation, member(org.id, "bob"), entry(org.id), NOW)

    orgs.remove(member(org.id, "bob"), entry(org.id, AuditAction.MEMBER_REMOVED))

    assert orgs.get_with_membership(org.id, "bob")[1] is None
    assert raw_org(org.id)["seats_used"] == {"N": "1"}
    with pytest.raises(MemberNotFound):
        orgs.remove(member(org.id, "bob"), entry(org.id))


def test_transferring_ownership_swaps_the_roles(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
) -> None:
    org = make_org("alice")
    invitation, _ = invited(invitations, org, "bob@example.com")
    orgs.join(invitation, member(org.id, "bob"), entry(org.id), NOW)

    orgs.transfer_ownership(
        member(org.id, "alice", OWNER), member(org.id, "bob"), entry(org.id)
    )

    assert orgs.get_with_membership(org.id, "bob")[1] == member(org.id, "bob", OWNER)
    assert orgs.get_with_membership(org.id, "alice")[1] == member(
        org.id, "alice", ADMIN
    )
    assert raw_org(org.id)["owners_count"] == {"N": "1"}
    with pytest.raises(ConcurrentUpdate):
        orgs.transfer_ownership(
            member(org.id, "alice", OWNER), member(org.id, "bob"), entry(org.id)
        )


def test_renaming_is_versioned(
    orgs: DynamoOrganizationStore, make_org: MakeOrg
) -> None:
    org = make_org("alice")

    renamed = orgs.rename(org.renamed(OrgName("Acme Two")), entry(org.id))

    assert orgs.get(org.id) == renamed
    assert renamed.name.value == "Acme Two"
    with pytest.raises(ConcurrentUpdate):
        orgs.rename(org.renamed(OrgName("Stale")), entry(org.id))


def test_deleting_an_org_removes_members_and_invitations_but_keeps_the_audit_log(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
    audit: DynamoAuditLog,
) -> None:
    org = make_org("alice")
    invitation, _ = invited(invitations, org, "bob@example.com")
    orgs.join(invitation, member(org.id, "bob"), entry(org.id), NOW)
    invited(invitations, org, "carol@example.com")

    orgs.delete(org, entry(org.id, AuditAction.ORG_DELETED))

    count = dynamodb_client().query(
        TableName=OrgItem.Meta.table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": org_pk(org.id)}},
        Select="COUNT",
    )["Count"]
    assert count == 0
    assert orgs.list_for_user("bob", 10, None).items == []
    assert audit_actions(audit, org.id)[0] is AuditAction.ORG_DELETED


def test_deleting_an_org_twice_finds_nothing_the_second_time(
    orgs: DynamoOrganizationStore, make_org: MakeOrg, audit: DynamoAuditLog
) -> None:
    org = make_org("alice")
    orgs.delete(org, entry(org.id, AuditAction.ORG_DELETED))

    with pytest.raises(OrganizationNotFound):
        orgs.delete(org, entry(org.id, AuditAction.ORG_DELETED))
    assert audit_actions(audit, org.id).count(AuditAction.ORG_DELETED) == 1


# -- invitations -----------------------------------------------------------------------


def test_only_the_hash_of_an_invitation_token_is_stored(
    invitations: DynamoInvitationStore, make_org: MakeOrg
) -> None:
    org = make_org("alice")
    _, token = invited(invitations, org, "Bob@Example.com")

    raw = dynamodb_client().get_item(
        TableName=OrgItem.Meta.table_name,
        Key={
            "pk": {"S": org_pk(org.id)},
            "sk": {"S": invitation_sk("bob@example.com")},
        },
        ConsistentRead=True,
    )["Item"]
    assert raw["token_hash"] == {"S": token_hash(token)}
    assert token not in str(raw)


def test_an_unknown_token_finds_nothing(
    invitations: DynamoInvitationStore, make_org: MakeOrg
) -> None:
    org = make_org("alice")
    invited(invitations, org, "bob@example.com")

    assert invitations.find("not-a-token") is None


def test_a_token_is_not_issued_for_a_replaced_or_revoked_invitation(
    invitations: DynamoInvitationStore, make_org: MakeOrg
) -> None:
    org = make_org("alice")
    old, _ = invited(invitations, org, "bob@example.com")
    new, _ = invited(invitations, org, "bob@example.com")

    assert invitations.issue_token(old) is None
    invitations.revoke(new, entry(org.id, AuditAction.INVITATION_REVOKED))
    assert invitations.issue_token(new) is None
    assert invitations.get(org.id, "bob@example.com") is None


def test_revoking_twice_or_a_replaced_invitation_is_invalid(
    invitations: DynamoInvitationStore, make_org: MakeOrg
) -> None:
    org = make_org("alice")
    old, _ = invited(invitations, org, "bob@example.com")
    new, _ = invited(invitations, org, "bob@example.com")

    with pytest.raises(InvitationInvalid):
        invitations.revoke(old, entry(org.id))
    invitations.revoke(new, entry(org.id))
    with pytest.raises(InvitationInvalid):
        invitations.revoke(new, entry(org.id))


def test_pending_invitations_are_listed_without_expired_or_accepted_ones(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
) -> None:
    org, other = make_org("alice"), make_org("zed")
    for name in ("a1", "a2", "a3", "a4"):
        invited(invitations, org, f"{name}@example.com")
    invited(invitations, org, "old@example.com", expires_in=timedelta(seconds=1))
    used, _ = invited(invitations, org, "used@example.com")
    orgs.join(used, member(org.id, "used"), entry(org.id), NOW)
    invited(invitations, other, "elsewhere@example.com")

    first = invitations.list_pending(org.id, NOW + timedelta(minutes=1), 3, None)
    assert first.next_position is not None
    second = invitations.list_pending(
        org.id, NOW + timedelta(minutes=1), 3, first.next_position
    )

    emails = [i.email.value for i in [*first.items, *second.items]]
    assert emails == [
        "a1@example.com",
        "a2@example.com",
        "a3@example.com",
        "a4@example.com",
    ]
    assert second.next_position is None


# -- audit log -------------------------------------------------------------------------


def test_the_audit_log_reads_newest_first_a_page_at_a_time(
    audit: DynamoAuditLog,
) -> None:
    entries = [entry("org-a", at=NOW + timedelta(minutes=n)) for n in range(5)]
    for e in entries:
        audit.append(e)
    audit.append(entry("org-b"))

    first = audit.list("org-a", NOW, 3, None)
    assert first.next_position is not None
    second = audit.list("org-a", NOW, 3, first.next_position)

    assert [*first.items, *second.items] == entries[::-1]
    assert second.next_position is None
    with pytest.raises(InvalidCursor):
        audit.list("org-b", NOW, 3, first.next_position)


def test_an_audit_entry_is_written_once(audit: DynamoAuditLog) -> None:
    e = entry("org-a")
    audit.append(e)

    with pytest.raises(ConcurrentUpdate):
        audit.append(replace(e, action=AuditAction.ORG_DELETED))

    assert audit.list("org-a", NOW, 10, None).items == [e]


def test_expired_audit_entries_are_not_read(audit: DynamoAuditLog) -> None:
    e = replace(entry("org-a"), expires_at=NOW + timedelta(days=1))
    audit.append(e)

    assert audit.list("org-a", NOW + timedelta(days=2), 10, None).items == []


# -- concurrency -----------------------------------------------------------------------


def test_twenty_concurrent_accepts_fill_exactly_the_free_seats(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
) -> None:
    """Real concurrency against moto, whose writes the test server isolates as
    DynamoDB does (``local.stack.isolate_dynamodb_writes``). The owner holds one
    of five seats: four of the twenty joins get in, whatever the order."""
    seats = 5
    org = make_org("alice", seat_limit=seats)
    guests = [
        (f"guest{n:02d}", invited(invitations, org, f"guest{n:02d}@example.com")[0])
        for n in range(20)
    ]
    barrier = threading.Barrier(len(guests))
    outcomes: dict[str, str] = {}

    def accept(user_id: str, invitation: Invitation) -> None:
        barrier.wait()
        try:
            orgs.join(invitation, member(org.id, user_id), entry(org.id), NOW)
        except SeatsExhausted:
            outcomes[user_id] = "full"
        except ConcurrentUpdate:
            outcomes[user_id] = "conflict"
        except Exception as exc:  # any other outcome fails the assertion below
            outcomes[user_id] = repr(exc)
        else:
            outcomes[user_id] = "joined"

    threads = [threading.Thread(target=accept, args=guest) for guest in guests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert set(outcomes.values()) <= {"joined", "full", "conflict"}, outcomes
    joined = sorted(u for u, outcome in outcomes.items() if outcome == "joined")
    assert len(joined) == seats - 1
    members = orgs.list_members(org.id, 100, None).items
    assert sorted(m.user_id for m in members) == sorted(["alice", *joined])
    assert raw_org(org.id)["seats_used"] == {"N": str(seats)}


def demote_each_other(orgs: DynamoOrganizationStore, org_id: str) -> list[str]:
    """Alice and Bob, both owners, demote themselves at the same moment."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(user_id: str) -> None:
        barrier.wait()
        try:
            orgs.change_role(member(org_id, user_id, OWNER), ADMIN, entry(org_id))
        except (LastOwner, ConcurrentUpdate) as exc:
            outcomes.append(type(exc).__name__)
        else:
            outcomes.append("demoted")

    threads = [threading.Thread(target=demote, args=(u,)) for u in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_owners_demoting_each_other_at_once_leave_an_owner(
    orgs: DynamoOrganizationStore,
    invitations: DynamoInvitationStore,
    make_org: MakeOrg,
) -> None:
    for _ in range(5):
        org = make_org("alice")
        invitation, _ = invited(invitations, org, "bob@example.com", OWNER)
        orgs.join(invitation, member(org.id, "bob", OWNER), entry(org.id), NOW)

        outcomes = demote_each_other(orgs, org.id)

        assert outcomes.count("demoted") == 1, outcomes
        roles = [m.role for m in orgs.list_members(org.id, 10, None).items]
        assert roles.count(OWNER) == 1
        assert raw_org(org.id)["owners_count"] == {"N": "1"}
