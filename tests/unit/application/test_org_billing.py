"""Organizations' billing on the fakes and the in-process Stripe emulator: an
admin (never a member) subscribes the organization per seat, Stripe's webhooks
store the subscription and its seat limit on the organization (never regressed by
stale news), and the quantity follows each join and removal through the
``sync_seats`` job, one idempotency key per change, billed once however often it
is retried."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from core.application.billing import BillingConfig, ProrationTokens
from core.application.commands.accept_invitation import AcceptInvitation
from core.application.commands.cancel_org_subscription import CancelOrgSubscription
from core.application.commands.change_org_plan import SEAT_HOLD, ChangeOrgPlan
from core.application.commands.create_organization import CreateOrganization
from core.application.commands.handle_stripe_event import HandleStripeEvent, Outcome
from core.application.commands.remove_member import RemoveMember
from core.application.commands.start_org_checkout import StartOrgCheckout
from core.application.errors import (
    ConcurrentUpdate,
    InvalidProrationToken,
    PaymentFailed,
    PaymentProviderUnavailable,
    PermissionDenied,
)
from core.application.jobs.sync_seats import SyncSeatsJob
from core.application.org_billing import (
    CancelAtPeriodEnd,
    OrgBillingWriter,
    SeatSync,
    org_entitlements,
)
from core.application.organizations import AuditTrail
from core.application.ports import BillingEvent, SubscriptionSnapshot
from core.application.queries.get_org_subscription import GetOrgSubscription
from core.application.queries.list_org_invoices import ListOrgInvoices
from core.application.queries.preview_org_plan_change import PreviewOrgPlanChange
from core.application.seat_billing import SeatBilling
from core.application.tasks import SEND_EMAIL, SYNC_SEATS, TaskSubmitter
from core.domain.billing import (
    Interval,
    Plan,
    PlanCatalog,
    Price,
    SubscriptionStatus,
)
from core.domain.organization import (
    AuditAction,
    AuditEntry,
    Invitation,
    Organization,
    OrganizationNotFound,
    OrgRole,
)
from core.domain.seats import SeatsExhausted
from core.domain.user import User
from functions.runtime.errors import status_of
from tests.fakes import (
    FakeClock,
    FakeCursorCodec,
    InMemoryAuditLog,
    InMemoryInvitationStore,
    InMemoryOrganizationStore,
    InMemoryOrgBillingStore,
    InMemoryTaskStore,
    InMemoryUserRepository,
    RecordingTaskQueue,
    SequentialIds,
)
from tests.stripe_inprocess import EmulatedStripe
from tests.unit.application.conftest import PRO, TEAM, Seed

# Free organizations have 3 seats; Team (per seat) 4, so the limit is reachable.
FREE3 = Plan(key="free", name="Free", limits={"seats": 3})
TEAM4 = replace(TEAM, limits={"seats": 4}, features=frozenset({"sso"}))
# Flat plans (one unit whatever the members): Pro with 5 seats, Duo with 2.
DUO = Plan(
    key="duo",
    name="Duo",
    limits={"seats": 2},
    prices=(Price("price_duo_month_usd", Interval.MONTH, "usd", 2000),),
)


@pytest.fixture
def catalog() -> PlanCatalog:
    return PlanCatalog(plans=(FREE3, TEAM4, PRO, DUO))


@pytest.fixture
def seat_billing(stripe: EmulatedStripe, billing_config: BillingConfig) -> SeatBilling:
    return SeatBilling(stripe.provider, billing_config)


@pytest.fixture
def accept(
    orgs: InMemoryOrganizationStore,
    invitations: InMemoryInvitationStore,
    trail: AuditTrail,
    clock: FakeClock,
    submitter: TaskSubmitter,
    catalog: PlanCatalog,
) -> AcceptInvitation:
    return AcceptInvitation(
        orgs, invitations, trail, clock, SeatSync(submitter, catalog)
    )


@pytest.fixture
def remove(
    orgs: InMemoryOrganizationStore,
    trail: AuditTrail,
    submitter: TaskSubmitter,
    catalog: PlanCatalog,
) -> RemoveMember:
    return RemoveMember(orgs, trail, SeatSync(submitter, catalog))


@pytest.fixture
def checkout(
    orgs: InMemoryOrganizationStore,
    org_billing: InMemoryOrgBillingStore,
    stripe: EmulatedStripe,
    seat_billing: SeatBilling,
    trail: AuditTrail,
    audit_log: InMemoryAuditLog,
) -> StartOrgCheckout:
    return StartOrgCheckout(
        orgs,
        org_billing,
        stripe.provider,
        seat_billing,
        SequentialIds("try"),
        trail,
        audit_log,
    )


@pytest.fixture
def org_writer(
    orgs: InMemoryOrganizationStore,
    org_billing: InMemoryOrgBillingStore,
    catalog: PlanCatalog,
    audit_log: InMemoryAuditLog,
) -> OrgBillingWriter:
    return OrgBillingWriter(orgs, org_billing, catalog, audit_log)


@pytest.fixture
def cancel_or_resume(
    orgs: InMemoryOrganizationStore,
    stripe: EmulatedStripe,
    org_writer: OrgBillingWriter,
    billing_config: BillingConfig,
    clock: FakeClock,
    trail: AuditTrail,
) -> CancelAtPeriodEnd:
    return CancelAtPeriodEnd(
        orgs, stripe.provider, org_writer, billing_config, clock, trail
    )


@pytest.fixture
def handle(
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    billing_store: object,
    submitter: TaskSubmitter,
    billing_config: BillingConfig,
    clock: FakeClock,
    orgs: InMemoryOrganizationStore,
    org_billing: InMemoryOrgBillingStore,
    trail: AuditTrail,
) -> HandleStripeEvent:
    return HandleStripeEvent(
        stripe.verifier,
        users,
        billing_store,  # type: ignore[arg-type]
        stripe.provider,
        submitter,
        billing_config,
        clock,
        orgs,
        org_billing,
        trail,
    )


@pytest.fixture
def job(orgs: InMemoryOrganizationStore, seat_billing: SeatBilling) -> SyncSeatsJob:
    return SyncSeatsJob(orgs, seat_billing)


class Acme:
    """An organization owned by alice, with the people who may join it."""

    def __init__(
        self,
        person: Seed,
        orgs: InMemoryOrganizationStore,
        invitations: InMemoryInvitationStore,
        trail: AuditTrail,
        clock: FakeClock,
        accept: AcceptInvitation,
        catalog: PlanCatalog,
    ) -> None:
        self.orgs, self.invitations, self.trail = orgs, invitations, trail
        self.clock, self.accept = clock, accept
        self.owner = person("alice")
        create = CreateOrganization(orgs, trail, SequentialIds("org"), clock, catalog)
        self.id = create.execute(self.owner, "Acme").organization.id

    def invite(self, user: User, role: OrgRole = OrgRole.MEMBER) -> str:
        now = self.clock.now()
        invitation = Invitation(
            id=f"inv-{user.id}",
            org_id=self.id,
            email=user.email,
            role=role,
            invited_by=self.owner.id,
            created_at=now,
            expires_at=now + timedelta(days=7),
        )
        self.invitations.put(
            invitation,
            self.trail.entry(
                self.id, self.owner, AuditAction.INVITATION_CREATED, user.email.key
            ),
        )
        token = self.invitations.issue_token(invitation)
        assert token is not None
        return token

    def join(self, user: User, role: OrgRole = OrgRole.MEMBER) -> None:
        self.accept.execute(user, self.invite(user, role))

    @property
    def stored(self) -> Organization:
        org = self.orgs.stored(self.id)
        assert org is not None
        return org


@pytest.fixture
def person(seed: Seed, users: InMemoryUserRepository) -> Seed:
    def make(username: str, **kwargs: object) -> User:
        return users.save(seed(username, **kwargs).with_email_verified())

    return make


@pytest.fixture
def acme(
    person: Seed,
    orgs: InMemoryOrganizationStore,
    invitations: InMemoryInvitationStore,
    trail: AuditTrail,
    clock: FakeClock,
    accept: AcceptInvitation,
    catalog: PlanCatalog,
) -> Acme:
    return Acme(person, orgs, invitations, trail, clock, accept, catalog)


def deliver_all(stripe: EmulatedStripe, handle: HandleStripeEvent, since: int) -> int:
    """Delivers the emulator's events from the ``since``-th on; how many there
    are now."""
    sent = stripe.deliveries(since)
    for payload, signature in sent:
        handle.execute(payload, signature)
    return since + len(sent)


def seat_tasks(task_store: InMemoryTaskStore) -> list[dict[str, object]]:
    return [dict(t.payload) for t in task_store.all() if t.name == SYNC_SEATS]


def subscribe(
    acme: Acme,
    admin: User,
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
) -> str:
    """Acme subscribes to Team through Checkout, paid, and its webhooks
    delivered; the subscription's id."""
    url = checkout.execute(admin, acme.id, "team", Interval.MONTH, "usd")
    subscription = stripe.pay_checkout(url)
    deliver_all(stripe, handle, 0)
    stripe.reset_counts()
    return subscription.id


@pytest.fixture
def team_of_three(acme: Acme, person: Seed) -> tuple[User, User]:
    """Acme with carol (admin) and bobby (member) beside alice: 3 members."""
    carol, bobby = person("carol"), person("bobby")
    acme.join(carol, OrgRole.ADMIN)
    acme.join(bobby)
    return carol, bobby


# -- checkout ------------------------------------------------------------------------


def test_an_admin_starts_the_checkout_for_as_many_seats_as_members(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
) -> None:
    carol, _ = team_of_three

    checkout.execute(carol, acme.id, "team", Interval.MONTH, "usd")
    checkout.execute(acme.owner, acme.id, "team", Interval.MONTH, "usd")

    first, second = stripe.checkouts
    assert (first.quantity, first.org_id, first.user_id) == (3, acme.id, None)
    assert second.quantity == 3
    # One customer for the organization, stored on it and claimed, made once.
    assert len(stripe.customers) == 1
    (customer_id,) = stripe.customers
    assert acme.stored.billing.customer_id == customer_id
    assert first.customer_id == second.customer_id == customer_id


def test_a_member_cannot_start_the_checkout_and_nothing_is_made(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
) -> None:
    _, bobby = team_of_three

    with pytest.raises(PermissionDenied):
        checkout.execute(bobby, acme.id, "team", Interval.MONTH, "usd")

    assert stripe.calls == {}
    assert acme.stored.billing.customer_id is None


# -- webhooks ------------------------------------------------------------------------


def test_the_paid_checkout_stores_the_subscription_and_its_seat_limit_on_the_org(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    users: InMemoryUserRepository,
    billing_config: BillingConfig,
    clock: FakeClock,
) -> None:
    carol, _ = team_of_three
    assert acme.stored.seat_limit == 3  # free

    sub_id = subscribe(acme, carol, checkout, stripe, handle)

    org = acme.stored
    assert org.billing.subscription is not None
    assert org.billing.subscription.id == sub_id
    assert org.billing.subscription.status is SubscriptionStatus.ACTIVE
    assert (org.plan_key, org.seat_limit) == ("team", 4)
    assert org_entitlements(billing_config, org, clock.now()).allows("sso")
    # Nothing of it landed on a person.
    assert all(u.billing.subscription is None for u in users.all())


def test_a_stale_event_does_not_regress_the_orgs_subscription(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    clock: FakeClock,
) -> None:
    carol, _ = team_of_three
    sub_id = subscribe(acme, carol, checkout, stripe, handle)
    before = stripe.subscription(sub_id)
    clock.advance(timedelta(minutes=5))
    canceled = stripe.update_subscription(sub_id, status="canceled")
    newer = stripe.sign(
        _event("evt_new", "customer.subscription.deleted", canceled, clock.now())
    )
    older = stripe.sign(
        _event(
            "evt_old",
            "customer.subscription.updated",
            before,
            clock.now() - timedelta(minutes=1),
        )
    )

    assert handle.execute(*newer).outcome is Outcome.APPLIED
    assert handle.execute(*older).outcome is Outcome.APPLIED

    org = acme.stored
    assert org.billing.subscription is not None
    assert org.billing.subscription.status is SubscriptionStatus.CANCELED
    # Ended: back to the free plan's seats.
    assert (org.plan_key, org.seat_limit) == ("free", 3)
    assert handle.execute(*newer).outcome is Outcome.DUPLICATE


def billing_entries(audit_log: InMemoryAuditLog, org_id: str) -> list[AuditEntry]:
    return [
        e
        for e in audit_log.entries(org_id)
        if e.action is AuditAction.BILLING_SUBSCRIPTION_CHANGED
    ]


def test_the_paid_subscription_is_logged_once_by_stripe_and_its_quantity_stored(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    person: Seed,
    job: SyncSeatsJob,
    task_store: InMemoryTaskStore,
    audit_log: InMemoryAuditLog,
) -> None:
    carol, _ = team_of_three
    sub_id = subscribe(acme, carol, checkout, stripe, handle)

    (started,) = billing_entries(audit_log, acme.id)
    assert (started.actor, started.target) == ("stripe", sub_id)
    assert started.details == {
        "status": "active",
        "plan": "team",
        "cancel_at_period_end": "false",
    }
    assert acme.stored.billing.subscription is not None
    assert acme.stored.billing.subscription.quantity == 3

    acme.join(person("david"))
    (payload,) = seat_tasks(task_store)
    job.run(payload)
    deliver_all(stripe, handle, 0)

    # The quantity the webhook reports is stored (the seats paid) ...
    assert acme.stored.billing.subscription.quantity == 4
    # ... and logs nothing more: the join that moved it is logged.
    assert billing_entries(audit_log, acme.id) == [started]


def test_an_unpaid_checkout_step_is_not_logged_and_the_end_is(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    clock: FakeClock,
    audit_log: InMemoryAuditLog,
) -> None:
    carol, _ = team_of_three
    sub_id = subscribe(acme, carol, checkout, stripe, handle)
    (started,) = billing_entries(audit_log, acme.id)
    clock.advance(timedelta(minutes=1))
    unpaid = replace(stripe.subscription(sub_id), status="incomplete")
    event = _event("evt_unpaid", "customer.subscription.updated", unpaid, clock.now())

    assert handle.execute(*stripe.sign(event)).outcome is Outcome.APPLIED
    assert billing_entries(audit_log, acme.id) == [started]

    clock.advance(timedelta(minutes=1))
    ended = stripe.update_subscription(sub_id, status="canceled")
    event = _event("evt_end", "customer.subscription.deleted", ended, clock.now())
    assert handle.execute(*stripe.sign(event)).outcome is Outcome.APPLIED
    _, end = billing_entries(audit_log, acme.id)
    assert (end.actor, end.target, end.details["status"]) == (
        "stripe",
        sub_id,
        "canceled",
    )


def _event(
    event_id: str, event_type: str, snapshot: SubscriptionSnapshot, created: datetime
) -> BillingEvent:
    return BillingEvent(event_id, event_type, created, subscription=snapshot)


# -- seats follow the members ----------------------------------------------------------


def test_the_quantity_follows_a_join_and_a_removal_with_one_key_per_change(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    person: Seed,
    remove: RemoveMember,
    job: SyncSeatsJob,
    task_store: InMemoryTaskStore,
    audit_log: InMemoryAuditLog,
) -> None:
    carol, bobby = team_of_three
    sub_id = subscribe(acme, carol, checkout, stripe, handle)
    assert seat_tasks(task_store) == []  # the joins before: free, nothing billed

    acme.join(person("david"))
    (joined,) = seat_tasks(task_store)
    assert job.run(joined) == {"synced": True, "quantity": 4}
    remove.execute(carol, acme.id, bobby.id)
    _, removed = seat_tasks(task_store)
    assert job.run(removed) == {"synced": True, "quantity": 3}

    assert stripe.subscription(sub_id).quantity == 3
    # By action: entries of one instant sort by id, and "audit-10" < "audit-9".
    entries = audit_log.entries(acme.id)
    join_entry = [e for e in entries if e.action is AuditAction.INVITATION_ACCEPTED][-1]
    (removal_entry,) = [e for e in entries if e.action is AuditAction.MEMBER_REMOVED]
    assert (joined["change_id"], removed["change_id"]) == (
        join_entry.id,
        removal_entry.id,
    )
    assert stripe.idempotency_keys == [
        f"seats:{acme.id}:{join_entry.id}-4",
        f"seats:{acme.id}:{removal_entry.id}-3",
    ]


def test_a_retried_seat_change_sends_the_same_key_and_stripe_bills_it_once(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    person: Seed,
    job: SyncSeatsJob,
    task_store: InMemoryTaskStore,
) -> None:
    carol, _ = team_of_three
    sub_id = subscribe(acme, carol, checkout, stripe, handle)
    acme.join(person("david"))
    (payload,) = seat_tasks(task_store)

    job.run(payload)
    invoices = len(stripe.emulator.state.invoices)
    job.run(payload)  # the worker died after Stripe answered: run again

    first, again = stripe.idempotency_keys
    assert first == again
    assert len(stripe.emulator.state.invoices) == invoices
    assert stripe.subscription(sub_id).quantity == 4


def test_a_stripe_outage_fails_the_attempt_and_the_retry_sets_the_seats(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    person: Seed,
    job: SyncSeatsJob,
    task_store: InMemoryTaskStore,
) -> None:
    carol, _ = team_of_three
    sub_id = subscribe(acme, carol, checkout, stripe, handle)
    stripe.fail()

    acme.join(person("david"))  # the join itself does not need Stripe
    (payload,) = seat_tasks(task_store)
    with pytest.raises(PaymentProviderUnavailable):
        job.run(payload)
    assert acme.stored.seats_used == 4
    stripe.recover()

    assert job.run(payload) == {"synced": True, "quantity": 4}
    assert stripe.subscription(sub_id).quantity == 4


def test_a_member_beyond_the_plans_seats_is_402_and_nothing_is_written(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    person: Seed,
    task_store: InMemoryTaskStore,
    audit_log: InMemoryAuditLog,
) -> None:
    carol, _ = team_of_three
    subscribe(acme, carol, checkout, stripe, handle)
    acme.join(person("david"))  # the 4th and last seat of Team4
    tasks, entries = len(task_store.all()), len(audit_log.entries(acme.id))
    erin = person("erina")
    token = acme.invite(erin)
    entries += 1  # the invitation's own entry

    with pytest.raises(SeatsExhausted) as refused:
        acme.accept.execute(erin, token)

    assert status_of(refused.value) == (402, None)
    assert refused.value.code == "seats_exhausted"
    assert acme.stored.seats_used == 4
    assert acme.orgs.get_with_membership(acme.id, erin.id)[1] is None
    assert len(task_store.all()) == tasks
    assert len(audit_log.entries(acme.id)) == entries
    assert stripe.calls == {}


def test_an_org_without_a_per_seat_subscription_queues_no_seat_sync(
    acme: Acme, team_of_three: tuple[User, User], task_store: InMemoryTaskStore
) -> None:
    assert acme.stored.seats_used == 3
    assert seat_tasks(task_store) == []


# -- subscription, cancel, invoices --------------------------------------------------


def test_admins_read_cancel_and_list_invoices_and_members_cannot(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    orgs: InMemoryOrganizationStore,
    cancel_or_resume: CancelAtPeriodEnd,
    billing_config: BillingConfig,
    clock: FakeClock,
) -> None:
    carol, bobby = team_of_three
    subscribe(acme, carol, checkout, stripe, handle)
    get = GetOrgSubscription(orgs, billing_config, clock)
    cancel = CancelOrgSubscription(cancel_or_resume)
    invoices = ListOrgInvoices(orgs, stripe.provider, FakeCursorCodec())

    for refused in (
        lambda: get.execute(bobby, acme.id),
        lambda: cancel.execute(bobby, acme.id),
        lambda: invoices.execute(bobby, acme.id, 10, None),
    ):
        with pytest.raises(PermissionDenied):
            refused()

    view = get.execute(carol, acme.id)
    assert (view.seats_used, view.seat_limit) == (3, 4)
    assert view.entitlements.plan.key == "team"
    clock.advance(timedelta(seconds=2))
    canceled = cancel.execute(carol, acme.id)
    assert canceled.subscription is not None
    assert canceled.subscription.cancel_at_period_end
    stored = acme.stored.billing.subscription
    assert stored is not None
    assert stored.cancel_at_period_end
    listing = invoices.execute(carol, acme.id, 10, None)
    assert len(listing.page.items) == 1


def test_an_invoice_event_naming_only_the_customer_reaches_the_org(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
) -> None:
    carol, _ = team_of_three
    url = checkout.execute(carol, acme.id, "team", Interval.MONTH, "usd")
    stripe.pay_checkout(url)
    invoices = [
        (payload, signature)
        for payload, signature in stripe.deliveries(0)
        if json.loads(payload)["type"] == "invoice.paid"
    ]
    assert invoices

    for payload, signature in invoices:
        handle.execute(payload, signature)

    stored = acme.stored.billing.subscription
    assert stored is not None
    assert stored.status is SubscriptionStatus.ACTIVE
    assert acme.stored.seat_limit == 4


def test_metadata_naming_another_org_does_not_move_a_subscription_onto_it(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    person: Seed,
    orgs: InMemoryOrganizationStore,
    trail: AuditTrail,
    clock: FakeClock,
    catalog: PlanCatalog,
) -> None:
    carol, _ = team_of_three
    sub_id = subscribe(acme, carol, checkout, stripe, handle)
    mallory = person("mallory")
    other = CreateOrganization(
        orgs, trail, SequentialIds("evil"), clock, catalog
    ).execute(mallory, "Evil")
    clock.advance(timedelta(seconds=5))
    forged = replace(stripe.subscription(sub_id), org_id=other.organization.id)

    handle.execute(
        *stripe.sign(
            _event("evt_forged", "customer.subscription.updated", forged, clock.now())
        )
    )

    evil = orgs.stored(other.organization.id)
    assert evil is not None
    assert evil.billing.subscription is None
    assert (evil.plan_key, evil.seat_limit) == ("free", 3)
    stored = acme.stored.billing.subscription
    assert stored is not None
    assert stored.id == sub_id


# -- plan change ----------------------------------------------------------------------


@pytest.fixture
def change_org_plan(
    orgs: InMemoryOrganizationStore,
    org_writer: OrgBillingWriter,
    stripe: EmulatedStripe,
    billing_config: BillingConfig,
    clock: FakeClock,
    cursors: FakeCursorCodec,
    trail: AuditTrail,
    submitter: TaskSubmitter,
    catalog: PlanCatalog,
    org_billing: InMemoryOrgBillingStore,
) -> ChangeOrgPlan:
    return ChangeOrgPlan(
        orgs,
        stripe.provider,
        org_writer,
        billing_config,
        clock,
        cursors,
        trail,
        SeatSync(submitter, catalog),
        org_billing,
    )


@pytest.fixture
def preview_org_plan(
    orgs: InMemoryOrganizationStore,
    stripe: EmulatedStripe,
    billing_config: BillingConfig,
    clock: FakeClock,
    cursors: FakeCursorCodec,
) -> PreviewOrgPlanChange:
    return PreviewOrgPlanChange(orgs, stripe.provider, billing_config, cursors, clock)


def test_a_per_seat_org_moved_to_a_flat_plan_bills_one_unit_and_takes_its_seats(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    clock: FakeClock,
) -> None:
    carol, _ = team_of_three
    sub_id = subscribe(acme, carol, checkout, stripe, handle)
    clock.advance(timedelta(days=3))

    view = change_org_plan.execute(carol, acme.id, "pro", Interval.MONTH)

    at_stripe = stripe.subscription(sub_id)
    assert (at_stripe.price_id, at_stripe.quantity) == ("price_pro_month_usd", 1)
    assert (acme.stored.plan_key, acme.stored.seat_limit) == ("pro", 5)
    assert (view.seats_used, view.seat_limit) == (3, 5)
    assert view.entitlements.plan.key == "pro"


def test_a_flat_org_moved_to_a_per_seat_plan_bills_its_members(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    clock: FakeClock,
) -> None:
    carol, _ = team_of_three
    url = checkout.execute(carol, acme.id, "pro", Interval.MONTH, "usd")
    sub_id = stripe.pay_checkout(url).id
    deliver_all(stripe, handle, 0)
    assert (stripe.subscription(sub_id).quantity, acme.stored.seat_limit) == (1, 5)
    clock.advance(timedelta(days=3))

    change_org_plan.execute(carol, acme.id, "team", Interval.MONTH)

    at_stripe = stripe.subscription(sub_id)
    assert (at_stripe.price_id, at_stripe.quantity) == ("price_team_month_usd", 3)
    assert (acme.stored.plan_key, acme.stored.seat_limit) == ("team", 4)


def test_a_member_who_joins_during_a_change_is_billed_by_a_seat_sync_after_it(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    orgs: InMemoryOrganizationStore,
    person: Seed,
    job: SyncSeatsJob,
    task_store: InMemoryTaskStore,
    audit_log: InMemoryAuditLog,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    carol, _ = team_of_three
    url = checkout.execute(carol, acme.id, "pro", Interval.MONTH, "usd")
    sub_id = stripe.pay_checkout(url).id
    deliver_all(stripe, handle, 0)
    clock.advance(timedelta(days=3))
    read = orgs.get_with_membership

    def read_then_join(org_id: str, user_id: str) -> object:
        found = read(org_id, user_id)
        acme.join(person("david"))  # lands after the change read the count
        return found

    monkeypatch.setattr(orgs, "get_with_membership", read_then_join)
    change_org_plan.execute(carol, acme.id, "team", Interval.MONTH)
    monkeypatch.undo()

    assert stripe.subscription(sub_id).quantity == 3  # the count read
    (task,) = seat_tasks(task_store)
    (changed,) = [
        e
        for e in audit_log.entries(acme.id)
        if e.action is AuditAction.BILLING_PLAN_CHANGED
    ]
    assert task["change_id"] == changed.id
    assert job.run(task) == {"synced": True, "quantity": 4}
    assert stripe.subscription(sub_id).quantity == 4


def test_a_plan_with_fewer_seats_than_members_is_402_and_stripe_is_not_asked(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    preview_org_plan: PreviewOrgPlanChange,
) -> None:
    carol, _ = team_of_three
    sub_id = subscribe(acme, carol, checkout, stripe, handle)
    before = acme.stored

    for attempt in (change_org_plan.execute, preview_org_plan.execute):
        with pytest.raises(SeatsExhausted) as refused:
            attempt(carol, acme.id, "duo", Interval.MONTH)
        assert status_of(refused.value) == (402, None)

    assert stripe.calls == {}
    assert stripe.subscription(sub_id).price_id == "price_team_month_usd"
    assert acme.stored == before


def on_pro(
    acme: Acme,
    admin: User,
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    clock: FakeClock,
) -> str:
    """Acme subscribes to Pro (flat, 5 seats), paid, its webhooks delivered, three
    days ago; the subscription's id."""
    url = checkout.execute(admin, acme.id, "pro", Interval.MONTH, "usd")
    sub_id = stripe.pay_checkout(url).id
    deliver_all(stripe, handle, 0)
    stripe.reset_counts()
    clock.advance(timedelta(days=3))
    assert acme.stored.seat_limit == 5
    return sub_id


def test_an_accept_while_a_change_to_fewer_seats_is_at_stripe_is_402_seats_exhausted(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    orgs: InMemoryOrganizationStore,
    person: Seed,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    carol, _ = team_of_three
    sub_id = on_pro(acme, carol, checkout, stripe, handle, clock)
    acme.join(person("david"))  # 4 members: Team's 4 seats, one below Pro's 5
    erin = person("erinn")
    change_price = stripe.provider.change_price
    refused: list[SeatsExhausted] = []
    stale = stripe.sign(
        _event(
            "evt_pro_again",
            "customer.subscription.updated",
            stripe.subscription(sub_id),
            clock.now() - timedelta(minutes=1),  # sent before, delivered late
        )
    )

    def join_then_change(*args: object, **kwargs: object) -> SubscriptionSnapshot:
        # The change has read the org (4 members) and not heard from Stripe yet.
        # A webhook of the current state lands first and writes Pro's limit.
        assert handle.execute(*stale).outcome is Outcome.APPLIED
        assert acme.stored.seat_limit == 5
        with pytest.raises(SeatsExhausted) as join:
            acme.join(erin)
        refused.append(join.value)
        return change_price(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(stripe.provider, "change_price", join_then_change)
    view = change_org_plan.execute(carol, acme.id, "team", Interval.MONTH)

    (seats_exhausted,) = refused
    assert status_of(seats_exhausted) == (402, None)
    assert (seats_exhausted.plan_key, seats_exhausted.limit) == ("team", 4)
    assert (view.seats_used, view.seat_limit) == (4, 4)
    assert (acme.stored.plan_key, acme.stored.seats_used) == ("team", 4)
    assert erin.id not in {m.user_id for m in orgs.members_of(acme.id)}
    assert stripe.subscription(sub_id).quantity == 4
    assert orgs.seat_holds == {}  # the change's store ended it


def test_a_change_whose_own_webhook_stored_it_first_still_ends_its_hold(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    org_billing: InMemoryOrgBillingStore,
    orgs: InMemoryOrganizationStore,
    person: Seed,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    carol, _ = team_of_three
    on_pro(acme, carol, checkout, stripe, handle, clock)
    sent = len(stripe.deliveries())
    change_price = stripe.provider.change_price

    def change_then_webhook(*args: object, **kwargs: object) -> SubscriptionSnapshot:
        snapshot = change_price(*args, **kwargs)  # type: ignore[arg-type]
        deliver_all(stripe, handle, sent)  # Stripe's news of it lands first
        return snapshot

    monkeypatch.setattr(stripe.provider, "change_price", change_then_webhook)
    org_billing.calls.clear()
    change_org_plan.execute(carol, acme.id, "team", Interval.MONTH)

    assert (acme.stored.plan_key, acme.stored.seat_limit) == ("team", 4)
    assert org_billing.calls["release_seat_hold"] == 1
    assert orgs.seat_holds == {}


def test_a_change_that_dies_at_stripe_holds_the_seats_only_until_the_hold_lapses(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    orgs: InMemoryOrganizationStore,
    person: Seed,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    carol, _ = team_of_three
    on_pro(acme, carol, checkout, stripe, handle, clock)
    acme.join(person("david"))  # 4 members: Team's 4 seats

    class FunctionTimedOut(BaseException):
        """The Lambda killed between the hold and the store: no handler runs."""

    def die(*args: object, **kwargs: object) -> SubscriptionSnapshot:
        raise FunctionTimedOut()

    monkeypatch.setattr(stripe.provider, "change_price", die)
    with pytest.raises(FunctionTimedOut):
        change_org_plan.execute(carol, acme.id, "team", Interval.MONTH)
    monkeypatch.undo()

    assert orgs.seat_holds[acme.id] == ("team", 4, clock.now() + SEAT_HOLD)
    clock.advance(SEAT_HOLD)
    with pytest.raises(SeatsExhausted):
        acme.join(person("erinn"))  # still held, to its last instant
    clock.advance(timedelta(seconds=1))
    acme.join(person("frank"))  # lapsed: Pro's 5 seats again
    assert (acme.stored.plan_key, acme.stored.seats_used) == ("pro", 5)


def test_an_accept_that_filled_the_new_plan_before_the_change_held_it_is_a_402(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    orgs: InMemoryOrganizationStore,
    person: Seed,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    carol, _ = team_of_three
    sub_id = on_pro(acme, carol, checkout, stripe, handle, clock)
    acme.join(person("david"))
    read = orgs.get_with_membership

    def read_then_join(org_id: str, user_id: str) -> object:
        found = read(org_id, user_id)
        acme.join(person("erinn"))  # the 5th, after the change counted 4
        return found

    monkeypatch.setattr(orgs, "get_with_membership", read_then_join)
    with pytest.raises(SeatsExhausted) as refused:
        change_org_plan.execute(carol, acme.id, "team", Interval.MONTH)
    monkeypatch.undo()

    assert status_of(refused.value) == (402, None)
    assert stripe.calls == {}
    assert stripe.subscription(sub_id).price_id == "price_pro_month_usd"
    assert (acme.stored.plan_key, acme.stored.seat_limit) == ("pro", 5)
    assert acme.stored.seats_used == 5
    assert orgs.seat_holds == {}


@pytest.mark.parametrize("refusal", ["unpaid", "stripe_down"])
def test_a_change_to_fewer_seats_that_stripe_does_not_apply_releases_its_hold(
    refusal: str,
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    org_billing: InMemoryOrgBillingStore,
    orgs: InMemoryOrganizationStore,
    person: Seed,
    clock: FakeClock,
) -> None:
    carol, _ = team_of_three
    sub_id = on_pro(acme, carol, checkout, stripe, handle, clock)
    before = acme.stored
    customer_id = before.billing.customer_id
    assert customer_id is not None
    if refusal == "unpaid":
        stripe.decline_next_payment(customer_id)  # Team's 3 seats cost more: invoiced
    else:
        stripe.fail("change_price")

    with pytest.raises((PaymentFailed, PaymentProviderUnavailable)):
        change_org_plan.execute(carol, acme.id, "team", Interval.MONTH)
    stripe.recover()

    assert stripe.calls["change_price"] == 1
    assert org_billing.calls["hold_seats"] == 1
    assert org_billing.calls["release_seat_hold"] == 1
    assert acme.stored == before  # Pro's 5 seats, the version unmoved
    assert orgs.seat_holds == {}
    assert stripe.subscription(sub_id).price_id == "price_pro_month_usd"
    acme.join(person("david"))
    acme.join(person("erinn"))  # the 5th seat: Team's 4 would have refused it
    assert acme.stored.seats_used == 5


def test_a_change_to_more_seats_holds_no_seats_before_stripe(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    org_billing: InMemoryOrgBillingStore,
    clock: FakeClock,
) -> None:
    carol, _ = team_of_three
    subscribe(acme, carol, checkout, stripe, handle)  # Team: 4 seats
    clock.advance(timedelta(days=3))
    org_billing.calls.clear()

    change_org_plan.execute(carol, acme.id, "pro", Interval.MONTH)

    assert stripe.calls["change_price"] == 1
    assert org_billing.calls == {"save_billing": 1}
    assert acme.stored.seat_limit == 5


def test_an_org_without_a_limit_is_held_to_the_new_plans_before_stripe_is_asked(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    orgs: InMemoryOrganizationStore,
    person: Seed,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    carol, _ = team_of_three
    subscribe(acme, carol, checkout, stripe, handle)
    clock.advance(timedelta(days=3))
    orgs.set_seat_limit(acme.id, None)
    acme.join(person("david"))
    acme.join(person("erinn"))  # 5 members: Pro's 5 seats
    change_price = stripe.provider.change_price

    def join_then_change(*args: object, **kwargs: object) -> SubscriptionSnapshot:
        with pytest.raises(SeatsExhausted):
            acme.join(person("frank"))
        return change_price(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(stripe.provider, "change_price", join_then_change)
    view = change_org_plan.execute(carol, acme.id, "pro", Interval.MONTH)

    assert (view.seats_used, view.seat_limit) == (5, 5)
    assert stripe.calls["change_price"] == 1


def test_a_retried_change_sends_the_same_key_and_stripe_charges_it_once(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    org_billing: InMemoryOrgBillingStore,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    carol, _ = team_of_three
    subscribe(acme, carol, checkout, stripe, handle)
    clock.advance(timedelta(days=3))
    customer_id = acme.stored.billing.customer_id
    assert customer_id is not None
    invoices = len(stripe.invoices_of(customer_id))

    def lost(
        org: Organization, audit: AuditEntry | None = None, release_hold: bool = False
    ) -> Organization:
        raise PaymentProviderUnavailable("the answer was lost")

    # Stripe changed the plan, then the request died before storing it.
    with monkeypatch.context() as patched:
        patched.setattr(org_billing, "save_billing", lost)
        with pytest.raises(PaymentProviderUnavailable):
            change_org_plan.execute(carol, acme.id, "pro", Interval.MONTH)
    view = change_org_plan.execute(carol, acme.id, "pro", Interval.MONTH)

    first, again = stripe.idempotency_keys
    assert first == again
    assert first.endswith(f"-org-{acme.stored.version - 1}")
    assert len(stripe.invoices_of(customer_id)) == invoices + 1
    assert view.entitlements.plan.key == "pro"


def test_members_and_strangers_cannot_change_or_preview_the_orgs_plan(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    preview_org_plan: PreviewOrgPlanChange,
    person: Seed,
) -> None:
    carol, bobby = team_of_three
    subscribe(acme, carol, checkout, stripe, handle)
    mallory = person("mallory")

    for attempt in (change_org_plan.execute, preview_org_plan.execute):
        with pytest.raises(PermissionDenied):
            attempt(bobby, acme.id, "pro", Interval.MONTH)
        with pytest.raises(OrganizationNotFound):
            attempt(mallory, acme.id, "pro", Interval.MONTH)

    assert stripe.calls == {}


def test_a_preview_token_binds_the_org_a_persons_or_another_orgs_is_refused(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    preview_org_plan: PreviewOrgPlanChange,
    cursors: FakeCursorCodec,
    billing_config: BillingConfig,
    clock: FakeClock,
) -> None:
    carol, _ = team_of_three
    sub_id = subscribe(acme, carol, checkout, stripe, handle)
    clock.advance(timedelta(days=3))
    quote = preview_org_plan.execute(carol, acme.id, "pro", Interval.MONTH)
    # The same subscription and price, bound to the admin instead of the org.
    tokens = ProrationTokens(cursors, billing_config.proration_token_ttl)
    forged = tokens.issue(carol.id, sub_id, "price_pro_month_usd", 1, clock.now())

    with pytest.raises(InvalidProrationToken):
        change_org_plan.execute(carol, acme.id, "pro", Interval.MONTH, forged)
    view = change_org_plan.execute(
        carol, acme.id, "pro", Interval.MONTH, quote.proration_token
    )

    assert view.entitlements.plan.key == "pro"
    customer_id = acme.stored.billing.customer_id
    assert customer_id is not None
    assert stripe.invoices_of(customer_id)[-1].amount_due == quote.amount_due


# -- audit of the admins' billing actions --------------------------------------------


def admin_entries(audit_log: InMemoryAuditLog, org_id: str) -> list[AuditEntry]:
    """The organization's entries of its admins' billing actions, oldest first."""
    return [
        e
        for e in audit_log.entries(org_id)
        if e.action.value.startswith("billing.") and e.actor != "stripe"
    ]


def test_starting_a_checkout_is_logged_with_who_and_which_plan(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    audit_log: InMemoryAuditLog,
) -> None:
    carol, _ = team_of_three

    checkout.execute(carol, acme.id, "team", Interval.MONTH, "usd")

    (started,) = admin_entries(audit_log, acme.id)
    assert started.action is AuditAction.BILLING_CHECKOUT_STARTED
    assert (started.actor, started.target, started.request_id) == (
        carol.id,
        acme.id,
        "req-1",
    )
    assert started.details == {"plan": "team", "interval": "month", "currency": "usd"}


def test_cancel_and_resume_are_logged_in_the_write_that_stores_them(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    cancel_or_resume: CancelAtPeriodEnd,
    org_billing: InMemoryOrgBillingStore,
    audit_log: InMemoryAuditLog,
    clock: FakeClock,
) -> None:
    carol, _ = team_of_three
    sub_id = subscribe(acme, carol, checkout, stripe, handle)
    appended = audit_log.calls["append"]

    clock.advance(timedelta(seconds=2))
    cancel_or_resume.execute(carol, acme.id, cancel=True)
    clock.advance(timedelta(seconds=2))
    cancel_or_resume.execute(acme.owner, acme.id, cancel=False)

    _, canceled, resumed = admin_entries(audit_log, acme.id)  # the checkout first
    assert (canceled.action, canceled.actor) == (AuditAction.BILLING_CANCELED, carol.id)
    assert (resumed.action, resumed.actor) == (
        AuditAction.BILLING_RESUMED,
        acme.owner.id,
    )
    assert canceled.target == resumed.target == sub_id
    assert canceled.request_id == "req-1"
    # Through the billing write (its transaction), never appended apart.
    assert audit_log.calls["append"] == appended
    assert org_billing.calls["save_billing"] == 2


def test_a_billing_write_that_fails_logs_nothing(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    cancel_or_resume: CancelAtPeriodEnd,
    orgs: InMemoryOrganizationStore,
    audit_log: InMemoryAuditLog,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    carol, _ = team_of_three
    subscribe(acme, carol, checkout, stripe, handle)
    before = len(audit_log.entries(acme.id))
    clock.advance(timedelta(seconds=2))
    stale = acme.stored
    # The organization moved on after every read (a join each time): each write
    # of the version read is refused, three tries, then the error.
    read = orgs.get_with_membership
    monkeypatch.setattr(
        orgs, "get_with_membership", lambda o, u: (stale, read(o, u)[1])
    )
    monkeypatch.setattr(orgs, "get", lambda org_id: stale)
    orgs._orgs[acme.id] = replace(stale, version=stale.version + 1)

    with pytest.raises(ConcurrentUpdate):
        cancel_or_resume.execute(carol, acme.id, cancel=True)

    assert len(audit_log.entries(acme.id)) == before


def test_a_plan_change_is_logged_from_and_to_with_the_seats_and_an_unpaid_one_not(
    acme: Acme,
    team_of_three: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    change_org_plan: ChangeOrgPlan,
    audit_log: InMemoryAuditLog,
    clock: FakeClock,
) -> None:
    carol, _ = team_of_three
    sub_id = subscribe(acme, carol, checkout, stripe, handle)
    clock.advance(timedelta(days=3))
    customer_id = acme.stored.billing.customer_id
    assert customer_id is not None

    change_org_plan.execute(carol, acme.id, "pro", Interval.MONTH)
    clock.advance(timedelta(seconds=2))
    # A year of Pro costs more than the month left: invoiced now, and declined.
    stripe.decline_next_payment(customer_id)
    with pytest.raises(PaymentFailed):
        change_org_plan.execute(carol, acme.id, "pro", Interval.YEAR)

    _, changed = admin_entries(audit_log, acme.id)  # the checkout's first
    assert (changed.action, changed.actor, changed.target) == (
        AuditAction.BILLING_PLAN_CHANGED,
        carol.id,
        sub_id,
    )
    assert changed.details == {
        "from_plan": "team",
        "from_interval": "month",
        "plan": "pro",
        "interval": "month",
        "quantity": "1",
    }


# -- emails to the owners ------------------------------------------------------------


def emails(
    task_queue: RecordingTaskQueue,
) -> list[tuple[str, str, str, dict[str, str]]]:
    """The emails queued: task id, recipient, template, context."""
    return [
        (t.id, t.payload["to"], t.payload["template"], t.payload["context"])
        for t in task_queue.queued
        if t.name == SEND_EMAIL
    ]


@pytest.fixture
def owners(acme: Acme, person: Seed) -> tuple[User, User]:
    """Acme has a second owner, oscar, and an admin, carol (the free plan's
    three seats)."""
    oscar = person("oscar")
    acme.join(oscar, OrgRole.OWNER)
    acme.join(person("carol"), OrgRole.ADMIN)
    return acme.owner, oscar


def test_the_owners_alone_are_emailed_once_naming_the_org_when_it_starts(
    acme: Acme,
    owners: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    task_queue: RecordingTaskQueue,
) -> None:
    alice, oscar = owners
    url = checkout.execute(alice, acme.id, "team", Interval.MONTH, "usd")
    stripe.pay_checkout(url)

    deliver_all(stripe, handle, 0)
    for payload, signature in stripe.deliveries(0):  # Stripe sends them again
        handle.execute(payload, signature)

    sent = emails(task_queue)
    assert sorted((to, template) for _, to, template, _ in sent) == [
        (alice.email.value, "org_subscription_started"),
        (oscar.email.value, "org_subscription_started"),
    ]
    by_owner = {to: context for _, to, _, context in sent}
    assert by_owner[oscar.email.value]["org_name"] == "Acme"
    assert by_owner[oscar.email.value]["username"] == "oscar"
    assert by_owner[alice.email.value]["plan"] == "Team"


def test_the_owners_are_emailed_when_a_payment_fails_and_when_it_ends(
    acme: Acme,
    owners: tuple[User, User],
    checkout: StartOrgCheckout,
    stripe: EmulatedStripe,
    handle: HandleStripeEvent,
    task_queue: RecordingTaskQueue,
    clock: FakeClock,
    person: Seed,
    users: InMemoryUserRepository,
) -> None:
    alice, oscar = owners
    sub_id = subscribe(acme, alice, checkout, stripe, handle)
    started = len(emails(task_queue))
    # A third owner whose account is deactivated keeps the role, not the mail.
    olive = person("olive")
    acme.join(olive, OrgRole.OWNER)
    users.save(olive.deactivated())
    clock.advance(timedelta(days=30))
    stripe.update_subscription(sub_id, status="past_due")
    customer_id = acme.stored.billing.customer_id
    assert customer_id is not None
    invoice = stripe.add_invoice(
        customer_id, 2400, status="open", subscription_id=sub_id
    )

    handle.execute(
        *stripe.sign(
            BillingEvent(
                "evt_f", "invoice.payment_failed", clock.now(), invoice=invoice
            )
        )
    )
    clock.advance(timedelta(days=1))
    ended = stripe.update_subscription(sub_id, status="canceled")
    handle.execute(
        *stripe.sign(
            _event("evt_end", "customer.subscription.deleted", ended, clock.now())
        )
    )

    later = emails(task_queue)[started:]
    assert [(task_id, template) for task_id, _, template, _ in later] == [
        (f"stripe-evt_f-{alice.id}", "org_payment_failed"),
        (f"stripe-evt_f-{oscar.id}", "org_payment_failed"),
        (f"stripe-evt_end-{alice.id}", "org_subscription_canceled"),
        (f"stripe-evt_end-{oscar.id}", "org_subscription_canceled"),
    ]
    failed = later[0][3]
    assert (failed["org_name"], failed["amount"]) == ("Acme", "24.00 USD")
    assert failed["pay_url"] == invoice.hosted_invoice_url
