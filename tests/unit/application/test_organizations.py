"""The organization use cases on the in-memory fakes, one section per interactor,
with the attacks first: another organization's ids, a member acting as admin, an
admin demoting an owner, a re-used or expired token, another address, the last
owner leaving."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.application.account_emails import ORG_INVITATION, AccountLinks
from core.application.billing import BillingConfig, subscription_from
from core.application.commands.accept_invitation import AcceptInvitation
from core.application.commands.change_member_role import ChangeMemberRole
from core.application.commands.create_organization import CreateOrganization
from core.application.commands.delete_organization import DeleteOrganization
from core.application.commands.invite_member import InviteMember
from core.application.commands.remove_member import RemoveMember
from core.application.commands.rename_organization import RenameOrganization
from core.application.commands.revoke_invitation import RevokeInvitation
from core.application.commands.transfer_ownership import TransferOwnership
from core.application.errors import (
    EmailNotVerified,
    InvalidCursor,
    InvalidPageRequest,
    PaymentProviderUnavailable,
    PermissionDenied,
    PlanRequired,
    TooManyAttempts,
)
from core.application.jobs.send_invitation import SendInvitationJob
from core.application.org_billing import SeatSync
from core.application.org_ports import MyOrganization
from core.application.organizations import AuditTrail
from core.application.queries.get_organization import GetOrganization
from core.application.queries.list_invitations import ListInvitations
from core.application.queries.list_members import ListMembers
from core.application.queries.list_my_organizations import ListMyOrganizations
from core.application.queries.read_audit_log import ReadAuditLog
from core.application.tasks import SEND_INVITATION, TaskSubmitter
from core.domain.billing import Billing, Plan, PlanCatalog
from core.domain.organization import (
    AlreadyMember,
    AuditAction,
    InvalidOrgName,
    InvalidOrgRole,
    InvitationEmailMismatch,
    InvitationExpired,
    InvitationInvalid,
    InvitationUsed,
    LastOwner,
    MemberNotFound,
    OrganizationNotFound,
    OrgRole,
)
from core.domain.seats import SeatsExhausted
from core.domain.user import User
from tests.fakes import (
    FakeClock,
    FakeCursorCodec,
    InMemoryAuditLog,
    InMemoryInvitationStore,
    InMemoryOrganizationStore,
    InMemoryRateLimiter,
    InMemoryTaskStore,
    InMemoryUserRepository,
    RecordingMailer,
    SequentialIds,
)
from tests.stripe_inprocess import EmulatedStripe
from tests.unit.application.conftest import BUSINESS, INVITATION_POLICY, PRO, Seed

OWNER, ADMIN, MEMBER = OrgRole.OWNER, OrgRole.ADMIN, OrgRole.MEMBER
SentToken = Callable[..., str]
# The shared catalog's free plan has one seat (the owner's): organizations here
# start on a free plan without a seat limit, unless a test sets one.
UNLIMITED_FREE = Plan(key="free", name="Free")


@pytest.fixture
def catalog() -> PlanCatalog:
    return PlanCatalog(plans=(UNLIMITED_FREE, PRO, BUSINESS))


@pytest.fixture
def person(seed: Seed, users: InMemoryUserRepository) -> Seed:
    """A stored user whose email is verified."""

    def make(username: str, **kwargs: object) -> User:
        return users.save(seed(username, **kwargs).with_email_verified())

    return make


@pytest.fixture
def create(
    orgs: InMemoryOrganizationStore,
    trail: AuditTrail,
    clock: FakeClock,
    catalog: PlanCatalog,
) -> CreateOrganization:
    return CreateOrganization(orgs, trail, SequentialIds("org"), clock, catalog)


@pytest.fixture
def invite(
    orgs: InMemoryOrganizationStore,
    invitations: InMemoryInvitationStore,
    users: InMemoryUserRepository,
    attempts: InMemoryRateLimiter,
    submitter: TaskSubmitter,
    trail: AuditTrail,
    clock: FakeClock,
) -> InviteMember:
    return InviteMember(
        orgs,
        invitations,
        users,
        attempts,
        submitter,
        trail,
        SequentialIds("inv"),
        clock,
        INVITATION_POLICY,
    )


@pytest.fixture
def send_job(
    orgs: InMemoryOrganizationStore,
    invitations: InMemoryInvitationStore,
    users: InMemoryUserRepository,
    mailer: RecordingMailer,
    clock: FakeClock,
) -> SendInvitationJob:
    return SendInvitationJob(
        orgs, invitations, users, mailer, clock, AccountLinks("https://app.example")
    )


@pytest.fixture
def seat_sync(submitter: TaskSubmitter, catalog: PlanCatalog) -> SeatSync:
    return SeatSync(submitter, catalog)


@pytest.fixture
def accept(
    orgs: InMemoryOrganizationStore,
    invitations: InMemoryInvitationStore,
    trail: AuditTrail,
    clock: FakeClock,
    seat_sync: SeatSync,
) -> AcceptInvitation:
    return AcceptInvitation(orgs, invitations, trail, clock, seat_sync)


@pytest.fixture
def sent_token(
    invite: InviteMember,
    send_job: SendInvitationJob,
    task_store: InMemoryTaskStore,
    mailer: RecordingMailer,
) -> SentToken:
    """Invites ``email`` into ``org_id`` as ``role`` and runs the email task:
    returns the token the email carries."""

    def make(actor: User, org_id: str, email: str, role: str = "member") -> str:
        invite.execute(actor, org_id, email, role)
        (task,) = [t for t in task_store.all() if t.name == SEND_INVITATION][-1:]
        assert send_job.run(task.payload) == {"sent": True}
        return mailer.sent[-1].context["link"].split("token=")[1]

    return make


def join(
    create: CreateOrganization,
    sent_token: SentToken,
    accept: AcceptInvitation,
    owner: User,
    *guests: tuple[User, OrgRole],
) -> MyOrganization:
    """An organization of ``owner`` that each guest joined with their role."""
    mine = create.execute(owner, "Acme")
    for guest, role in guests:
        accept.execute(
            guest,
            sent_token(owner, mine.organization.id, guest.email.value, role.value),
        )
    return mine


def actions(audit_log: InMemoryAuditLog, org_id: str) -> list[AuditAction]:
    return [e.action for e in audit_log.entries(org_id)]


# -- create_organization ---------------------------------------------------------------


def test_a_verified_user_creates_an_org_and_owns_it(
    create: CreateOrganization, person: Seed, audit_log: InMemoryAuditLog
) -> None:
    alice = person("alice")

    mine = create.execute(alice, "  Acme  ")

    org = mine.organization
    assert (org.name.value, mine.membership.role, org.plan_key) == (
        "Acme",
        OWNER,
        "free",
    )
    assert (org.seats_used, org.owners_count, org.seat_limit) == (1, 1, None)
    (entry,) = audit_log.entries(org.id)
    assert (entry.actor, entry.action, entry.request_id) == (
        alice.id,
        AuditAction.ORG_CREATED,
        "req-1",
    )


def test_an_unverified_user_cannot_create_an_org(
    create: CreateOrganization, seed: Seed, orgs: InMemoryOrganizationStore
) -> None:
    with pytest.raises(EmailNotVerified):
        create.execute(seed("alice"), "Acme")
    assert orgs.calls["create"] == 0


@pytest.mark.parametrize("name", ["", "x" * 101, "Ac\nme"])
def test_a_bad_org_name_creates_nothing(
    create: CreateOrganization, person: Seed, orgs: InMemoryOrganizationStore, name: str
) -> None:
    with pytest.raises(InvalidOrgName):
        create.execute(person("alice"), name)
    assert orgs.calls["create"] == 0


# -- get_organization, list_my_organizations -------------------------------------------


def test_a_non_member_gets_the_same_not_found_as_for_a_missing_org(
    create: CreateOrganization, person: Seed, orgs: InMemoryOrganizationStore
) -> None:
    org = create.execute(person("alice"), "Acme").organization
    get = GetOrganization(orgs)

    with pytest.raises(OrganizationNotFound) as other:
        get.execute(person("mallory"), org.id)
    with pytest.raises(OrganizationNotFound) as missing:
        get.execute(person("alice2"), "no-such-org")

    assert other.value.message == missing.value.message


def test_a_member_gets_the_org_with_their_role(
    create: CreateOrganization, person: Seed, orgs: InMemoryOrganizationStore
) -> None:
    alice = person("alice")
    org = create.execute(alice, "Acme").organization

    mine = GetOrganization(orgs).execute(alice, org.id)

    assert (mine.organization.id, mine.membership.role) == (org.id, OWNER)


def test_my_orgs_are_paged_with_a_cursor_bound_to_me(
    create: CreateOrganization,
    person: Seed,
    orgs: InMemoryOrganizationStore,
    cursors: FakeCursorCodec,
) -> None:
    alice, bobby = person("alice"), person("bobby")
    made = [create.execute(alice, f"Org {n}").organization.id for n in range(3)]
    create.execute(bobby, "Bob's")
    listing = ListMyOrganizations(orgs, cursors)

    first = listing.execute(alice, 2, None)
    assert first.next_cursor is not None
    second = listing.execute(alice, 2, first.next_cursor)

    assert [m.organization.id for m in [*first.items, *second.items]] == sorted(made)
    assert second.next_cursor is None
    with pytest.raises(InvalidCursor):
        listing.execute(bobby, 2, first.next_cursor)
    with pytest.raises(InvalidPageRequest):
        listing.execute(alice, 0, None)


# -- rename_organization ---------------------------------------------------------------


def test_a_member_cannot_rename_but_an_admin_can(
    create: CreateOrganization,
    sent_token: SentToken,
    accept: AcceptInvitation,
    person: Seed,
    orgs: InMemoryOrganizationStore,
    trail: AuditTrail,
    audit_log: InMemoryAuditLog,
) -> None:
    alice, bobby, carol = person("alice"), person("bobby"), person("carol")
    org = join(create, sent_token, accept, alice, (bobby, MEMBER), (carol, ADMIN))
    org_id = org.organization.id
    rename = RenameOrganization(orgs, trail)

    with pytest.raises(PermissionDenied):
        rename.execute(bobby, org_id, "Mine now")
    renamed = rename.execute(carol, org_id, "Acme Two")

    assert renamed.name.value == "Acme Two"
    assert actions(audit_log, org_id)[-1] is AuditAction.ORG_RENAMED


def test_renaming_another_orgs_id_is_not_found(
    create: CreateOrganization,
    person: Seed,
    orgs: InMemoryOrganizationStore,
    trail: AuditTrail,
) -> None:
    victim = create.execute(person("alice"), "Victim").organization
    mallory = person("mallory")
    create.execute(mallory, "Mine")

    with pytest.raises(OrganizationNotFound):
        RenameOrganization(orgs, trail).execute(mallory, victim.id, "Pwned")
    stored = orgs.stored(victim.id)
    assert stored is not None
    assert stored.name.value == "Victim"


# -- delete_organization ---------------------------------------------------------------


def test_only_an_owner_deletes_and_the_audit_log_stays(
    create: CreateOrganization,
    sent_token: SentToken,
    accept: AcceptInvitation,
    person: Seed,
    orgs: InMemoryOrganizationStore,
    invitations: InMemoryInvitationStore,
    trail: AuditTrail,
    audit_log: InMemoryAuditLog,
    stripe: EmulatedStripe,
) -> None:
    alice, carol = person("alice"), person("carol")
    org = join(create, sent_token, accept, alice, (carol, ADMIN)).organization
    delete = DeleteOrganization(orgs, stripe.provider, trail)

    with pytest.raises(PermissionDenied):
        delete.execute(carol, org.id)
    delete.execute(alice, org.id)

    assert orgs.stored(org.id) is None
    assert orgs.members_of(org.id) == []
    assert [i for i in invitations.stored() if i.org_id == org.id] == []
    assert actions(audit_log, org.id)[-1] is AuditAction.ORG_DELETED


# -- invite_member, send_invitation ----------------------------------------------------


def test_an_invitation_is_stored_hashed_and_emailed_by_a_task(
    create: CreateOrganization,
    invite: InviteMember,
    send_job: SendInvitationJob,
    person: Seed,
    invitations: InMemoryInvitationStore,
    task_store: InMemoryTaskStore,
    mailer: RecordingMailer,
) -> None:
    alice = person("alice")
    org = create.execute(alice, "Acme").organization

    invitation = invite.execute(alice, org.id, "Bob@Example.com", "member")

    (task,) = [t for t in task_store.all() if t.name == SEND_INVITATION]
    assert "token" not in str(task.payload)
    assert send_job.run(task.payload) == {"sent": True}
    (email,) = mailer.sent
    assert (email.to, email.template) == ("Bob@Example.com", ORG_INVITATION)
    assert email.context["org_name"] == "Acme"
    assert email.context["expires_in"] == "7 days"
    token = email.context["link"].split("token=")[1]
    (stored,) = invitations.stored()
    assert stored.id == invitation.id
    assert stored.token_hash == InMemoryInvitationStore.hash(token)


def test_a_member_cannot_invite_and_an_admin_cannot_invite_an_admin(
    create: CreateOrganization,
    sent_token: SentToken,
    accept: AcceptInvitation,
    invite: InviteMember,
    person: Seed,
    orgs: InMemoryOrganizationStore,
) -> None:
    alice, bobby, carol = person("alice"), person("bobby"), person("carol")
    org_id = join(
        create, sent_token, accept, alice, (bobby, MEMBER), (carol, ADMIN)
    ).organization.id

    with pytest.raises(PermissionDenied):
        invite.execute(bobby, org_id, "eve@example.com", "member")
    with pytest.raises(PermissionDenied):
        invite.execute(carol, org_id, "eve@example.com", "admin")
    with pytest.raises(InvalidOrgRole):
        invite.execute(alice, org_id, "eve@example.com", "super_admin")
    invite.execute(carol, org_id, "eve@example.com", "member")


def test_inviting_a_member_is_already_member(
    create: CreateOrganization, invite: InviteMember, person: Seed
) -> None:
    alice = person("alice")
    org = create.execute(alice, "Acme").organization

    with pytest.raises(AlreadyMember):
        invite.execute(alice, org.id, "ALICE@example.com", "member")


def test_reinviting_replaces_the_invitation_and_the_old_link_stops_working(
    create: CreateOrganization,
    sent_token: SentToken,
    accept: AcceptInvitation,
    person: Seed,
    orgs: InMemoryOrganizationStore,
) -> None:
    alice, bobby = person("alice"), person("bobby")
    org = create.execute(alice, "Acme").organization
    orgs.set_seat_limit(org.id, 1)
    old = sent_token(alice, org.id, "bobby@example.com")
    new = sent_token(alice, org.id, "bobby@example.com")

    with pytest.raises(InvitationInvalid):
        accept.execute(bobby, old)
    with pytest.raises(SeatsExhausted):  # one seat: the owner's
        accept.execute(bobby, new)
    orgs.set_seat_limit(org.id, 2)
    accept.execute(bobby, new)


def test_invitation_emails_are_limited_per_org_and_per_address(
    create: CreateOrganization, invite: InviteMember, person: Seed
) -> None:
    alice = person("alice")
    org = create.execute(alice, "Acme").organization
    for _ in range(INVITATION_POLICY.per_address):
        invite.execute(alice, org.id, "bobby@example.com", "member")

    with pytest.raises(TooManyAttempts):
        invite.execute(alice, org.id, "bobby@example.com", "member")
    others = INVITATION_POLICY.per_org - INVITATION_POLICY.per_address
    for n in range(others):
        invite.execute(alice, org.id, f"guest{n}@example.com", "member")
    with pytest.raises(TooManyAttempts):
        invite.execute(alice, org.id, "one.more@example.com", "member")


def test_the_job_sends_nothing_for_a_revoked_invitation(
    create: CreateOrganization,
    invite: InviteMember,
    send_job: SendInvitationJob,
    person: Seed,
    orgs: InMemoryOrganizationStore,
    invitations: InMemoryInvitationStore,
    trail: AuditTrail,
    task_store: InMemoryTaskStore,
    mailer: RecordingMailer,
) -> None:
    alice = person("alice")
    org = create.execute(alice, "Acme").organization
    invite.execute(alice, org.id, "bobby@example.com", "member")
    RevokeInvitation(orgs, invitations, trail).execute(
        alice, org.id, "bobby@example.com"
    )

    (task,) = task_store.all()
    assert send_job.run(task.payload) == {"sent": False}
    assert mailer.sent == []


# -- list_invitations, revoke_invitation -----------------------------------------------


def test_pending_invitations_are_listed_to_admins_only(
    create: CreateOrganization,
    invite: InviteMember,
    person: Seed,
    orgs: InMemoryOrganizationStore,
    invitations: InMemoryInvitationStore,
    cursors: FakeCursorCodec,
    clock: FakeClock,
) -> None:
    alice = person("alice")
    org = create.execute(alice, "Acme").organization
    for name in ("a1", "a2", "a3"):
        invite.execute(alice, org.id, f"{name}@example.com", "member")
    listing = ListInvitations(orgs, invitations, cursors, clock)

    first = listing.execute(alice, org.id, 2, None)
    second = listing.execute(alice, org.id, 2, first.next_cursor)

    assert [i.email.key for i in [*first.items, *second.items]] == [
        "a1@example.com",
        "a2@example.com",
        "a3@example.com",
    ]
    with pytest.raises(OrganizationNotFound):
        listing.execute(person("mallory"), org.id, 2, None)


def test_an_admin_cannot_revoke_an_owners_invitation(
    create: CreateOrganization,
    sent_token: SentToken,
    accept: AcceptInvitation,
    invite: InviteMember,
    person: Seed,
    orgs: InMemoryOrganizationStore,
    invitations: InMemoryInvitationStore,
    trail: AuditTrail,
) -> None:
    alice, carol = person("alice"), person("carol")
    org_id = join(create, sent_token, accept, alice, (carol, ADMIN)).organization.id
    invite.execute(alice, org_id, "boss@example.com", "owner")
    revoke = RevokeInvitation(orgs, invitations, trail)

    with pytest.raises(PermissionDenied):
        revoke.execute(carol, org_id, "boss@example.com")
    revoke.execute(alice, org_id, "boss@example.com")
    with pytest.raises(InvitationInvalid):
        revoke.execute(alice, org_id, "boss@example.com")


# -- accept_invitation -----------------------------------------------------------------


def test_accepting_adds_the_member_with_the_invited_role(
    create: CreateOrganization,
    sent_token: SentToken,
    accept: AcceptInvitation,
    person: Seed,
    orgs: InMemoryOrganizationStore,
    audit_log: InMemoryAuditLog,
) -> None:
    alice, carol = person("alice"), person("carol")

    mine = join(create, sent_token, accept, alice, (carol, ADMIN))

    _, membership = orgs.get_with_membership(mine.organization.id, carol.id)
    assert membership is not None
    assert membership.role is ADMIN
    stored = orgs.stored(mine.organization.id)
    assert stored is not None
    assert stored.seats_used == 2
    assert (
        actions(audit_log, mine.organization.id)[-1] is AuditAction.INVITATION_ACCEPTED
    )


def test_a_token_works_once(
    create: CreateOrganization,
    sent_token: SentToken,
    accept: AcceptInvitation,
    person: Seed,
) -> None:
    alice, carol = person("alice"), person("carol")
    org = create.execute(alice, "Acme").organization
    token = sent_token(alice, org.id, "carol@example.com", "admin")
    accept.execute(carol, token)

    with pytest.raises(InvitationUsed):
        accept.execute(carol, token)


def test_an_expired_token_is_refused(
    create: CreateOrganization,
    sent_token: SentToken,
    accept: AcceptInvitation,
    person: Seed,
    clock: FakeClock,
) -> None:
    alice, carol = person("alice"), person("carol")
    org = create.execute(alice, "Acme").organization
    token = sent_token(alice, org.id, "carol@example.com", "admin")
    clock.advance(INVITATION_POLICY.ttl)

    with pytest.raises(InvitationExpired):
        accept.execute(carol, token)


def test_another_address_cannot_use_the_token(
    create: CreateOrganization,
    sent_token: SentToken,
    accept: AcceptInvitation,
    person: Seed,
    seed: Seed,
    orgs: InMemoryOrganizationStore,
) -> None:
    alice, mallory = person("alice"), person("mallory")
    org = create.execute(alice, "Acme").organization
    token = sent_token(alice, org.id, "carol@example.com", "admin")

    with pytest.raises(InvitationEmailMismatch):
        accept.execute(mallory, token)
    with pytest.raises(EmailNotVerified):
        accept.execute(seed("carol"), token)  # the address, not yet verified
    assert orgs.get_with_membership(org.id, mallory.id)[1] is None


def test_a_made_up_token_is_invalid(accept: AcceptInvitation, person: Seed) -> None:
    with pytest.raises(InvitationInvalid):
        accept.execute(person("alice"), "made-up")
    with pytest.raises(InvitationInvalid):
        accept.execute(person("bobby"), "")


# -- list_members ----------------------------------------------------------------------


def test_members_are_listed_to_members_only(
    create: CreateOrganization,
    sent_token: SentToken,
    accept: AcceptInvitation,
    person: Seed,
    orgs: InMemoryOrganizationStore,
    cursors: FakeCursorCodec,
) -> None:
    alice, bobby, carol = person("alice"), person("bobby"), person("carol")
    org_id = join(
        create, sent_token, accept, alice, (bobby, MEMBER), (carol, ADMIN)
    ).organization.id
    listing = ListMembers(orgs, cursors)

    first = listing.execute(bobby, org_id, 2, None)
    second = listing.execute(bobby, org_id, 2, first.next_cursor)

    roles = {m.user_id: m.role for m in [*first.items, *second.items]}
    assert roles == {alice.id: OWNER, bobby.id: MEMBER, carol.id: ADMIN}
    with pytest.raises(OrganizationNotFound):
        listing.execute(person("mallory"), org_id, 2, None)
    other = create.execute(alice, "Other").organization.id
    with pytest.raises(InvalidCursor):
        listing.execute(alice, other, 2, first.next_cursor)


# -- change_member_role ----------------------------------------------------------------


@pytest.fixture
def team(
    create: CreateOrganization,
    sent_token: SentToken,
    accept: AcceptInvitation,
    person: Seed,
) -> tuple[str, User, User, User, User]:
    """An organization: alice and olivia own it, carol admins it, bobby is a
    member. Returns its id and them."""
    alice, olivia = person("alice"), person("olivia")
    carol, bobby = person("carol"), person("bobby")
    org_id = join(
        create,
        sent_token,
        accept,
        alice,
        (olivia, OWNER),
        (carol, ADMIN),
        (bobby, MEMBER),
    ).organization.id
    return org_id, alice, olivia, carol, bobby


Team = tuple[str, User, User, User, User]


def role_of(orgs: InMemoryOrganizationStore, org_id: str, user: User) -> OrgRole:
    _, membership = orgs.get_with_membership(org_id, user.id)
    assert membership is not None
    return membership.role


def test_an_admin_cannot_demote_an_owner_or_promote_anyone(
    team: Team, orgs: InMemoryOrganizationStore, trail: AuditTrail
) -> None:
    org_id, alice, _, carol, bobby = team
    change = ChangeMemberRole(orgs, trail)

    with pytest.raises(PermissionDenied):
        change.execute(carol, org_id, alice.id, "member")
    with pytest.raises(PermissionDenied):
        change.execute(carol, org_id, bobby.id, "admin")
    assert role_of(orgs, org_id, alice) is OWNER
    assert role_of(orgs, org_id, bobby) is MEMBER


def test_a_member_acting_as_admin_is_refused(
    team: Team, orgs: InMemoryOrganizationStore, trail: AuditTrail
) -> None:
    org_id, _, _, carol, bobby = team

    with pytest.raises(PermissionDenied):
        ChangeMemberRole(orgs, trail).execute(bobby, org_id, carol.id, "member")
    with pytest.raises(PermissionDenied):
        ChangeMemberRole(orgs, trail).execute(bobby, org_id, bobby.id, "admin")


def test_an_owner_changes_roles_and_it_is_audited(
    team: Team,
    orgs: InMemoryOrganizationStore,
    trail: AuditTrail,
    audit_log: InMemoryAuditLog,
) -> None:
    org_id, alice, _, carol, _ = team

    changed = ChangeMemberRole(orgs, trail).execute(alice, org_id, carol.id, "member")

    assert changed.role is MEMBER
    entry = audit_log.entries(org_id)[-1]
    assert (entry.action, entry.target, dict(entry.details)) == (
        AuditAction.MEMBER_ROLE_CHANGED,
        carol.id,
        {"from": "admin", "to": "member"},
    )


def test_the_last_owner_cannot_demote_themselves(
    team: Team, orgs: InMemoryOrganizationStore, trail: AuditTrail
) -> None:
    org_id, alice, olivia, _, _ = team
    change = ChangeMemberRole(orgs, trail)
    change.execute(alice, org_id, olivia.id, "admin")

    with pytest.raises(LastOwner):
        change.execute(alice, org_id, alice.id, "admin")
    assert role_of(orgs, org_id, alice) is OWNER


def test_changing_the_role_of_a_non_member_or_in_another_org_is_not_found(
    team: Team,
    create: CreateOrganization,
    orgs: InMemoryOrganizationStore,
    trail: AuditTrail,
    person: Seed,
) -> None:
    org_id, alice, _, _, bobby = team
    mallory = person("mallory")
    create.execute(mallory, "Mine")
    change = ChangeMemberRole(orgs, trail)

    with pytest.raises(MemberNotFound):
        change.execute(alice, org_id, "nobody", "admin")
    with pytest.raises(OrganizationNotFound):
        change.execute(mallory, org_id, bobby.id, "admin")


# -- remove_member ---------------------------------------------------------------------


def test_a_member_leaves_and_frees_the_seat(
    seat_sync: SeatSync,
    team: Team,
    orgs: InMemoryOrganizationStore,
    trail: AuditTrail,
    audit_log: InMemoryAuditLog,
) -> None:
    org_id, _, _, _, bobby = team

    RemoveMember(orgs, trail, seat_sync).execute(bobby, org_id, bobby.id)

    assert orgs.get_with_membership(org_id, bobby.id)[1] is None
    stored = orgs.stored(org_id)
    assert stored is not None
    assert stored.seats_used == 3
    assert actions(audit_log, org_id)[-1] is AuditAction.MEMBER_LEFT


def test_the_last_owner_cannot_leave(
    team: Team,
    orgs: InMemoryOrganizationStore,
    trail: AuditTrail,
    seat_sync: SeatSync,
) -> None:
    org_id, alice, olivia, _, _ = team
    remove = RemoveMember(orgs, trail, seat_sync)
    remove.execute(olivia, org_id, olivia.id)

    with pytest.raises(LastOwner):
        remove.execute(alice, org_id, alice.id)
    assert role_of(orgs, org_id, alice) is OWNER


def test_an_admin_removes_members_but_not_owners_or_admins(
    seat_sync: SeatSync,
    team: Team,
    orgs: InMemoryOrganizationStore,
    trail: AuditTrail,
    person: Seed,
) -> None:
    org_id, alice, _, carol, bobby = team
    remove = RemoveMember(orgs, trail, seat_sync)

    with pytest.raises(PermissionDenied):
        remove.execute(carol, org_id, alice.id)
    with pytest.raises(PermissionDenied):
        remove.execute(bobby, org_id, carol.id)
    remove.execute(carol, org_id, bobby.id)
    assert orgs.get_with_membership(org_id, bobby.id)[1] is None
    with pytest.raises(MemberNotFound):
        remove.execute(carol, org_id, bobby.id)


# -- transfer_ownership ----------------------------------------------------------------


def test_an_owner_hands_the_ownership_to_a_member(
    team: Team,
    orgs: InMemoryOrganizationStore,
    trail: AuditTrail,
    audit_log: InMemoryAuditLog,
) -> None:
    org_id, alice, _, _, bobby = team

    TransferOwnership(orgs, trail).execute(alice, org_id, bobby.id)

    assert role_of(orgs, org_id, bobby) is OWNER
    assert role_of(orgs, org_id, alice) is ADMIN
    assert actions(audit_log, org_id)[-1] is AuditAction.OWNERSHIP_TRANSFERRED


def test_only_an_owner_transfers_and_only_to_a_member(
    team: Team, orgs: InMemoryOrganizationStore, trail: AuditTrail, person: Seed
) -> None:
    org_id, alice, _, carol, bobby = team
    transfer = TransferOwnership(orgs, trail)

    with pytest.raises(PermissionDenied):
        transfer.execute(carol, org_id, carol.id)
    with pytest.raises(MemberNotFound):
        transfer.execute(alice, org_id, person("outsider").id)
    assert role_of(orgs, org_id, bobby) is MEMBER


# -- read_audit_log --------------------------------------------------------------------


def on_plan(
    orgs: InMemoryOrganizationStore,
    stripe: EmulatedStripe,
    catalog: PlanCatalog,
    clock: FakeClock,
    org_id: str,
    price_id: str,
) -> None:
    """``org_id`` subscribed to ``price_id`` at Stripe, stored as its webhook
    would store it."""
    customer = stripe.provider.create_customer(
        org_id, f"{org_id}@example.com", idempotency_key=f"customer-{org_id}"
    )
    snapshot = stripe.add_subscription(customer, price_id)
    orgs.set_billing(
        org_id,
        Billing(customer, subscription_from(snapshot, catalog, clock.now(), None)),
    )


@pytest.fixture
def read_audit_log(
    orgs: InMemoryOrganizationStore,
    audit_log: InMemoryAuditLog,
    cursors: FakeCursorCodec,
    clock: FakeClock,
    billing_config: BillingConfig,
) -> ReadAuditLog:
    return ReadAuditLog(orgs, audit_log, cursors, clock, billing_config)


def test_the_audit_log_reads_newest_first_to_admins_only(
    team: Team,
    orgs: InMemoryOrganizationStore,
    audit_log: InMemoryAuditLog,
    read_audit_log: ReadAuditLog,
    stripe: EmulatedStripe,
    catalog: PlanCatalog,
    clock: FakeClock,
) -> None:
    org_id, alice, _, carol, bobby = team
    on_plan(orgs, stripe, catalog, clock, org_id, "price_business_month_usd")
    read = read_audit_log
    everything = audit_log.entries(org_id)

    first = read.execute(carol, org_id, 3, None)
    rest = read.execute(alice, org_id, 100, first.next_cursor)

    assert [*first.items, *rest.items] == everything[::-1]
    assert first.items[-1].action is AuditAction.INVITATION_ACCEPTED
    assert everything[0].action is AuditAction.ORG_CREATED
    with pytest.raises(PermissionDenied):
        read.execute(bobby, org_id, 3, None)


def test_the_audit_log_is_refused_to_a_stranger_then_a_member_then_the_plan(
    team: Team,
    orgs: InMemoryOrganizationStore,
    audit_log: InMemoryAuditLog,
    read_audit_log: ReadAuditLog,
    person: Seed,
) -> None:
    org_id, alice, _, carol, bobby = team
    stranger = person("stranger")
    recorded = audit_log.entries(org_id)

    with pytest.raises(OrganizationNotFound):
        read_audit_log.execute(stranger, org_id, 10, None)
    with pytest.raises(PermissionDenied):
        read_audit_log.execute(bobby, org_id, 10, None)
    for admin in (alice, carol):
        with pytest.raises(PlanRequired) as refused:
            read_audit_log.execute(admin, org_id, 10, None)
        assert refused.value.plans == ["business"]
    # Recorded on the free plan all the same, for an upgrade to show.
    assert recorded
    assert recorded[0].action is AuditAction.ORG_CREATED


def test_the_audit_logs_plan_check_reads_nothing_beyond_the_membership(
    team: Team,
    orgs: InMemoryOrganizationStore,
    read_audit_log: ReadAuditLog,
    stripe: EmulatedStripe,
    catalog: PlanCatalog,
    clock: FakeClock,
) -> None:
    org_id, alice, _, _, _ = team
    on_plan(orgs, stripe, catalog, clock, org_id, "price_business_month_usd")
    orgs.calls.clear()

    read_audit_log.execute(alice, org_id, 10, None)

    assert dict(orgs.calls) == {"get_with_membership": 1}


def test_deleting_an_org_ends_its_subscription_at_stripe_first(
    create: CreateOrganization,
    person: Seed,
    orgs: InMemoryOrganizationStore,
    trail: AuditTrail,
    stripe: EmulatedStripe,
    catalog: PlanCatalog,
    clock: FakeClock,
) -> None:
    alice = person("alice")
    org = create.execute(alice, "Acme").organization
    customer = stripe.provider.create_customer(
        org.id, alice.email.value, idempotency_key=f"customer-{org.id}"
    )
    snapshot = stripe.add_subscription(customer, "price_pro_month_usd")
    orgs.set_billing(
        org.id,
        Billing(customer, subscription_from(snapshot, catalog, clock.now(), None)),
    )

    DeleteOrganization(orgs, stripe.provider, trail).execute(alice, org.id)

    assert stripe.provider.get_subscription(snapshot.id).status == "canceled"
    assert orgs.stored(org.id) is None


def test_an_org_is_kept_when_stripe_cannot_end_its_subscription(
    create: CreateOrganization,
    person: Seed,
    orgs: InMemoryOrganizationStore,
    trail: AuditTrail,
    stripe: EmulatedStripe,
    catalog: PlanCatalog,
    clock: FakeClock,
) -> None:
    alice = person("alice")
    org = create.execute(alice, "Acme").organization
    customer = stripe.provider.create_customer(
        org.id, alice.email.value, idempotency_key=f"customer-{org.id}"
    )
    snapshot = stripe.add_subscription(customer, "price_pro_month_usd")
    orgs.set_billing(
        org.id,
        Billing(customer, subscription_from(snapshot, catalog, clock.now(), None)),
    )

    class Unreachable:
        def cancel_now(self, *args: object, **kwargs: object) -> None:
            raise PaymentProviderUnavailable()

    with pytest.raises(PaymentProviderUnavailable):
        DeleteOrganization(orgs, Unreachable(), trail).execute(  # type: ignore[arg-type]
            alice, org.id
        )
    assert orgs.stored(org.id) is not None
