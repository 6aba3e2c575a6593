from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from core.application.billing import (
    BillingConfig,
    SubscriptionWriter,
    subscription_from,
)
from core.application.commands.cancel_subscription import CancelSubscription
from core.application.commands.handle_stripe_event import (
    EMAILS,
    HANDLED_EVENTS,
    Handled,
    HandleStripeEvent,
    Outcome,
)
from core.application.errors import DependencyUnavailable, InvalidSignature
from core.application.organizations import AuditTrail
from core.application.ports import (
    BillingEvent,
    CheckoutSnapshot,
    DisputeSnapshot,
    InvoiceSnapshot,
    SubscriptionSnapshot,
)
from core.application.tasks import SEND_EMAIL, TaskSubmitter
from core.domain.billing import Interval, SubscriptionStatus
from core.domain.user import User
from tests.fakes import (
    FakeClock,
    InMemoryBillingStore,
    InMemoryOrganizationStore,
    InMemoryOrgBillingStore,
    InMemoryUserRepository,
    RecordingTaskQueue,
    SequentialIds,
    org_fakes,
)
from tests.stripe_inprocess import EmulatedStripe
from tests.unit.application.conftest import (
    BUSINESS,
    CATALOG,
    EVENT_KEEP,
    FREE,
    GRACE,
    PRO,
    Seed,
    Subscribe,
)

SECOND = timedelta(seconds=1)
Deliver = Callable[[BillingEvent], Outcome]


@pytest.fixture
def handle(
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    billing_store: InMemoryBillingStore,
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
        billing_store,
        stripe.provider,
        submitter,
        billing_config,
        clock,
        orgs,
        org_billing,
        trail,
    )


@pytest.fixture
def deliver(handle: HandleStripeEvent, stripe: EmulatedStripe) -> Deliver:
    """Delivers an event as Stripe does: its signed body, verified by the handler."""

    def send(event: BillingEvent) -> Outcome:
        payload, signature = stripe.sign(event)
        return handle.execute(payload, signature).outcome

    return send


def subscription_event(
    event_id: str,
    event_type: str,
    snapshot: SubscriptionSnapshot,
    created: datetime,
) -> BillingEvent:
    return BillingEvent(event_id, event_type, created, subscription=snapshot)


def invoice_event(
    event_id: str, event_type: str, invoice: InvoiceSnapshot, created: datetime
) -> BillingEvent:
    return BillingEvent(event_id, event_type, created, invoice=invoice)


@pytest.fixture
def customer(
    seed: Seed, stripe: EmulatedStripe, billing_store: InMemoryBillingStore
) -> User:
    """alice, just back from checkout: a customer, no subscription stored yet."""
    alice = seed("alice")
    customer_id = stripe.provider.create_customer(
        alice.id, alice.email.value, idempotency_key=f"customer-{alice.id}"
    )
    stored = billing_store.attach_customer(alice, customer_id)
    billing_store.calls.clear()
    stripe.reset_counts()
    return stored


@pytest.fixture
def subscribed(seed: Seed, subscribe: Subscribe) -> tuple[User, SubscriptionSnapshot]:
    """alice with an active pro subscription, stored as of the clock's now."""
    return subscribe(seed("alice"))


def stored_user(users: InMemoryUserRepository, user: User) -> User:
    found = users.stored(user.id)
    assert found is not None
    return found


def emails(task_queue: RecordingTaskQueue) -> list[tuple[str, str]]:
    """(task id, template) of every queued email."""
    return [
        (task.id, task.payload["template"])
        for task in task_queue.queued
        if task.name == SEND_EMAIL
    ]


# -- applying subscription events ----------------------------------------------------


def test_a_new_subscription_is_stored_and_its_welcome_email_queued(
    deliver: Deliver,
    customer: User,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    billing_store: InMemoryBillingStore,
    task_queue: RecordingTaskQueue,
    billing_config: BillingConfig,
    clock: FakeClock,
) -> None:
    assert customer.billing.customer_id is not None
    snapshot = stripe.add_subscription(
        customer.billing.customer_id, "price_pro_month_usd", user_id=customer.id
    )
    created = clock.now() - 2 * SECOND
    event = subscription_event(
        "evt_1", "customer.subscription.created", snapshot, created
    )

    assert deliver(event) is Outcome.APPLIED

    alice = stored_user(users, customer)
    subscription = alice.billing.subscription
    assert subscription is not None
    assert (subscription.id, subscription.status) == (
        snapshot.id,
        SubscriptionStatus.ACTIVE,
    )
    assert (subscription.plan_key, subscription.observed_at) == ("pro", created)
    assert billing_config.entitlements(alice, clock.now()).plan == PRO
    assert billing_store.event("evt_1") == (
        "customer.subscription.created",
        clock.now(),
        clock.now() + EVENT_KEEP,
    )
    [task] = task_queue.queued
    assert (task.id, task.name, task.owner_id) == ("stripe-evt_1", SEND_EMAIL, alice.id)
    assert task.payload["to"] == "alice@example.com"
    assert task.payload["template"] == "subscription_started"
    assert task.payload["context"]["plan"] == "Pro"
    assert task.payload["context"]["username"] == "alice"
    assert stripe.calls["get_subscription"] == 0  # the payload was enough


def test_the_same_event_three_times_changes_the_state_once_and_emails_once(
    deliver: Deliver,
    customer: User,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    billing_store: InMemoryBillingStore,
    task_queue: RecordingTaskQueue,
) -> None:
    assert customer.billing.customer_id is not None
    snapshot = stripe.add_subscription(
        customer.billing.customer_id, "price_pro_month_usd", user_id=customer.id
    )
    event = subscription_event(
        "evt_1", "customer.subscription.created", snapshot, customer.created_at
    )

    outcomes = [deliver(event) for _ in range(3)]

    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.DUPLICATE]
    assert stored_user(users, customer).version == customer.version + 1
    assert billing_store.calls["record_event"] == 1
    assert emails(task_queue) == [("stripe-evt_1", "subscription_started")]


class LaggingBillingStore(InMemoryBillingStore):
    """Two deliveries of one event at once: both read 'not processed' before
    either records it."""

    def was_processed(self, event_id: str) -> bool:
        super().was_processed(event_id)
        return False


def test_a_duplicate_that_slips_past_the_first_check_changes_and_queues_nothing(
    users: InMemoryUserRepository,
    stripe: EmulatedStripe,
    submitter: TaskSubmitter,
    billing_config: BillingConfig,
    clock: FakeClock,
    task_queue: RecordingTaskQueue,
    customer: User,
) -> None:
    store = LaggingBillingStore(users)
    assert customer.billing.customer_id is not None
    store.attach_customer(stored_user(users, customer), customer.billing.customer_id)
    orgs, _, _ = org_fakes()
    handle = HandleStripeEvent(
        stripe.verifier,
        users,
        store,
        stripe.provider,
        submitter,
        billing_config,
        clock,
        orgs,
        InMemoryOrgBillingStore(orgs, store),
        AuditTrail(clock, SequentialIds("audit"), timedelta(days=1)),
    )
    snapshot = stripe.add_subscription(
        customer.billing.customer_id, "price_pro_month_usd", user_id=customer.id
    )
    event = subscription_event(
        "evt_1", "customer.subscription.created", snapshot, clock.now()
    )
    payload, signature = stripe.sign(event)

    first = handle.execute(payload, signature).outcome
    after_first = stored_user(users, customer)
    second = handle.execute(payload, signature).outcome

    assert (first, second) == (Outcome.APPLIED, Outcome.DUPLICATE)
    assert stored_user(users, customer) == after_first
    assert len(task_queue.queued) == 1


def test_events_delivered_newest_first_leave_the_newest_state(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    alice, snapshot = subscribed
    t = clock.now()
    states = [
        replace(snapshot, cancel_at_period_end=True),
        replace(snapshot, cancel_at_period_end=False, price_id="price_pro_year_usd"),
        replace(
            snapshot, cancel_at_period_end=True, price_id="price_business_month_usd"
        ),
    ]
    events = [
        subscription_event(
            f"evt_{n}", "customer.subscription.updated", s, t + n * SECOND
        )
        for n, s in enumerate(states, start=1)
    ]

    outcomes = [deliver(event) for event in reversed(events)]

    assert outcomes == [Outcome.APPLIED] * 3
    subscription = stored_user(users, alice).billing.subscription
    assert subscription is not None
    assert subscription.price_id == "price_business_month_usd"
    assert subscription.plan_key == BUSINESS.key
    assert subscription.cancel_at_period_end is True
    assert subscription.observed_at == t + 3 * SECOND


def test_an_event_older_than_the_stored_state_is_recorded_and_changes_nothing(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    users: InMemoryUserRepository,
    billing_store: InMemoryBillingStore,
    clock: FakeClock,
) -> None:
    alice, snapshot = subscribed
    old = replace(snapshot, status="past_due")
    event = subscription_event(
        "evt_old", "customer.subscription.updated", old, clock.now() - SECOND
    )

    assert deliver(event) is Outcome.APPLIED

    assert stored_user(users, alice) == alice
    assert billing_store.was_processed("evt_old")


def test_an_event_from_the_same_second_as_the_stored_state_rereads_stripe(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    alice, snapshot = subscribed
    stored_at = clock.now()  # the stored state was observed at this second
    # Two changes within that second; Stripe knows the last one.
    at_stripe = stripe.update_subscription(
        snapshot.id, cancel_at_period_end=True, price_id="price_pro_year_usd"
    )
    payload = replace(snapshot, cancel_at_period_end=True)
    event = subscription_event(
        "evt_same", "customer.subscription.updated", payload, stored_at
    )

    deliver(event)

    assert stripe.calls["get_subscription"] == 1
    subscription = stored_user(users, alice).billing.subscription
    assert subscription is not None
    assert subscription.price_id == at_stripe.price_id
    assert subscription.cancel_at_period_end is True
    assert stored_at < subscription.observed_at < stored_at + SECOND

    # A later event still wins over the re-read.
    later = replace(at_stripe, cancel_at_period_end=False)
    deliver(
        subscription_event(
            "evt_later", "customer.subscription.updated", later, stored_at + SECOND
        )
    )
    subscription = stored_user(users, alice).billing.subscription
    assert subscription is not None
    assert subscription.cancel_at_period_end is False


def test_a_change_at_stripe_in_the_second_of_our_own_write_is_not_lost(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    writer: SubscriptionWriter,
    billing_config: BillingConfig,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    alice, snapshot = subscribed
    second = clock.now() + 10 * SECOND
    clock.set(second + timedelta(milliseconds=400))
    CancelSubscription(stripe.provider, writer, clock, billing_config).execute(alice)
    # 400 ms later the user takes it back in the Customer Portal.
    resumed = stripe.update_subscription(snapshot.id, cancel_at_period_end=False)
    clock.set(second + timedelta(milliseconds=900))

    deliver(
        subscription_event("evt_1", "customer.subscription.updated", resumed, second)
    )

    subscription = stored_user(users, alice).billing.subscription
    assert subscription is not None
    assert subscription.cancel_at_period_end is False


# -- invoices: failed payments and the grace period ----------------------------------


def fail_payment(
    stripe: EmulatedStripe, snapshot: SubscriptionSnapshot
) -> InvoiceSnapshot:
    """A renewal's payment fails at Stripe: an open invoice, the subscription past
    due."""
    stripe.update_subscription(snapshot.id, status="past_due")
    return stripe.add_invoice(
        snapshot.customer_id, 1500, status="open", subscription_id=snapshot.id
    )


def test_a_failed_payment_makes_the_subscription_past_due_from_the_event_time(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    task_queue: RecordingTaskQueue,
    billing_config: BillingConfig,
    clock: FakeClock,
) -> None:
    alice, snapshot = subscribed
    failed_at = clock.now() + timedelta(minutes=1)
    clock.set(failed_at + 3 * SECOND)
    invoice = fail_payment(stripe, snapshot)

    deliver(invoice_event("evt_f1", "invoice.payment_failed", invoice, failed_at))

    after = stored_user(users, alice)
    subscription = after.billing.subscription
    assert subscription is not None
    assert subscription.status is SubscriptionStatus.PAST_DUE
    assert subscription.past_due_since == failed_at
    rights = billing_config.entitlements(after, clock.now())
    assert (rights.plan, rights.grace_until) == (PRO, failed_at + GRACE)
    [task] = task_queue.queued
    assert task.id == "stripe-evt_f1"
    assert task.payload["template"] == "payment_failed"
    context = task.payload["context"]
    assert context["pay_url"] == invoice.hosted_invoice_url
    assert context["amount"] == "15.00 USD"
    assert context["grace_until"] == (failed_at + GRACE).date().isoformat()


def test_a_second_failure_keeps_the_start_of_the_grace_period(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    task_queue: RecordingTaskQueue,
    clock: FakeClock,
) -> None:
    alice, snapshot = subscribed
    first_at = clock.now() + timedelta(minutes=1)
    deliver(
        invoice_event(
            "evt_f1",
            "invoice.payment_failed",
            fail_payment(stripe, snapshot),
            first_at,
        )
    )
    retry_at = first_at + timedelta(days=3)
    clock.set(retry_at)
    invoice = stripe.add_invoice(
        snapshot.customer_id, 1500, status="open", subscription_id=snapshot.id
    )

    deliver(invoice_event("evt_f2", "invoice.payment_failed", invoice, retry_at))

    subscription = stored_user(users, alice).billing.subscription
    assert subscription is not None
    assert subscription.status is SubscriptionStatus.PAST_DUE
    assert subscription.past_due_since == first_at
    assert subscription.observed_at == retry_at
    assert emails(task_queue) == [
        ("stripe-evt_f1", "payment_failed"),
        ("stripe-evt_f2", "payment_failed"),
    ]


def test_a_paid_invoice_after_failures_ends_the_grace_period(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    task_queue: RecordingTaskQueue,
    billing_config: BillingConfig,
    clock: FakeClock,
) -> None:
    alice, snapshot = subscribed
    failed_at = clock.now() + timedelta(minutes=1)
    invoice = fail_payment(stripe, snapshot)
    deliver(invoice_event("evt_f1", "invoice.payment_failed", invoice, failed_at))
    paid_at = failed_at + timedelta(days=2)
    clock.set(paid_at)
    stripe.update_subscription(snapshot.id, status="active")

    deliver(
        invoice_event(
            "evt_paid", "invoice.paid", replace(invoice, status="paid"), paid_at
        )
    )

    after = stored_user(users, alice)
    subscription = after.billing.subscription
    assert subscription is not None
    assert subscription.status is SubscriptionStatus.ACTIVE
    assert subscription.past_due_since is None
    assert billing_config.entitlements(after, clock.now()).grace_until is None
    assert [template for _, template in emails(task_queue)] == ["payment_failed"]


def test_a_payment_needing_action_emails_the_link_to_pay(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    task_queue: RecordingTaskQueue,
    clock: FakeClock,
) -> None:
    _, snapshot = subscribed
    invoice = stripe.add_invoice(
        snapshot.customer_id, 1500, status="open", subscription_id=snapshot.id
    )

    deliver(
        invoice_event(
            "evt_3ds", "invoice.payment_action_required", invoice, clock.now() + SECOND
        )
    )

    [task] = task_queue.queued
    assert task.payload["template"] == "payment_action_required"
    assert task.payload["context"]["pay_url"] == invoice.hosted_invoice_url


# -- the end of a subscription, trials -----------------------------------------------


def test_a_deleted_subscription_falls_back_to_free_and_says_so_by_email(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    task_queue: RecordingTaskQueue,
    billing_config: BillingConfig,
    clock: FakeClock,
) -> None:
    alice, snapshot = subscribed
    ended = stripe.update_subscription(snapshot.id, status="canceled")
    clock.advance(timedelta(days=30))

    deliver(
        subscription_event(
            "evt_del", "customer.subscription.deleted", ended, clock.now()
        )
    )

    after = stored_user(users, alice)
    assert after.billing.subscription is not None
    assert after.billing.subscription.status is SubscriptionStatus.CANCELED
    assert billing_config.entitlements(after, clock.now()).plan == FREE
    assert emails(task_queue) == [("stripe-evt_del", "subscription_canceled")]
    assert task_queue.queued[0].payload["context"]["plan"] == "Pro"


def test_a_trial_about_to_end_is_announced_by_email(
    deliver: Deliver,
    seed: Seed,
    subscribe: Subscribe,
    stripe: EmulatedStripe,
    task_queue: RecordingTaskQueue,
    clock: FakeClock,
) -> None:
    _, snapshot = subscribe(
        seed("alice"), "price_business_month_usd", status="trialing"
    )
    trial_end = clock.now() + timedelta(days=14)
    trialing = stripe.update_subscription(snapshot.id, trial_end=trial_end)
    clock.advance(timedelta(days=11))

    deliver(
        subscription_event(
            "evt_trial", "customer.subscription.trial_will_end", trialing, clock.now()
        )
    )

    [task] = task_queue.queued
    assert task.payload["template"] == "trial_ending"
    assert task.payload["context"]["trial_end"] == trial_end.date().isoformat()
    assert task.payload["context"]["plan"] == "Business"


def test_every_email_an_event_sends_is_for_an_event_that_is_handled() -> None:
    assert set(EMAILS) <= HANDLED_EVENTS


# -- checkout ------------------------------------------------------------------------


def test_a_completed_checkout_stores_the_subscription_read_from_stripe(
    deliver: Deliver,
    customer: User,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    task_queue: RecordingTaskQueue,
    clock: FakeClock,
) -> None:
    assert customer.billing.customer_id is not None
    stripe.provider.create_checkout(
        customer_id=customer.billing.customer_id,
        price_id="price_business_month_usd",
        user_id=customer.id,
        success_url="https://ok",
        cancel_url="https://no",
        idempotency_key="k",
        trial_days=14,
    )
    checkout, snapshot = stripe.complete_checkout(stripe.checkouts[0])
    stripe.reset_counts()

    deliver(
        BillingEvent(
            "evt_cs", "checkout.session.completed", clock.now(), checkout=checkout
        )
    )

    subscription = stored_user(users, customer).billing.subscription
    assert subscription is not None
    assert subscription.id == snapshot.id
    assert subscription.status is SubscriptionStatus.TRIALING
    assert subscription.trial_end == snapshot.trial_end
    assert stripe.calls["get_subscription"] == 1
    # Whichever event first stores it live sends "started", once.
    assert emails(task_queue) == [("stripe-evt_cs", "subscription_started")]


# -- who the event is for ------------------------------------------------------------


def test_an_event_for_an_unknown_customer_is_recorded_and_changes_nothing(
    deliver: Deliver,
    customer: User,
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    billing_store: InMemoryBillingStore,
    task_queue: RecordingTaskQueue,
    clock: FakeClock,
) -> None:
    stranger = stripe.provider.create_customer(
        "elsewhere", "x@example.com", idempotency_key="x"
    )
    snapshot = stripe.add_subscription(stranger, "price_pro_month_usd")
    stripe.reset_counts()

    deliver(
        subscription_event(
            "evt_x", "customer.subscription.created", snapshot, clock.now()
        )
    )

    assert billing_store.was_processed("evt_x")
    assert stored_user(users, customer) == customer
    assert users.writes == 0
    assert task_queue.queued == []
    assert sum(stripe.calls.values()) == 0


def test_an_event_for_an_unknown_customer_is_acknowledged_as_ignored(
    deliver: Deliver, stripe: EmulatedStripe, clock: FakeClock
) -> None:
    stranger = stripe.provider.create_customer(
        "elsewhere", "x@example.com", idempotency_key="x"
    )
    snapshot = stripe.add_subscription(stranger, "price_pro_month_usd")

    outcome = deliver(
        subscription_event(
            "evt_x", "customer.subscription.created", snapshot, clock.now()
        )
    )

    assert outcome is Outcome.IGNORED


def test_metadata_naming_another_user_than_the_customers_owner_is_not_trusted(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    seed: Seed,
    subscribe: Subscribe,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    alice, snapshot = subscribed
    bobby, _ = subscribe(seed("bobby"))
    forged = replace(snapshot, user_id=bobby.id, cancel_at_period_end=True)

    deliver(
        subscription_event(
            "evt_1", "customer.subscription.updated", forged, clock.now() + SECOND
        )
    )

    assert stored_user(users, bobby) == bobby
    subscription = stored_user(users, alice).billing.subscription
    assert subscription is not None
    assert subscription.cancel_at_period_end is True


@pytest.mark.parametrize(
    "event_type", ["customer.created", "charge.succeeded", "invoice.created"]
)
def test_an_event_type_strata_does_not_handle_is_ignored_and_not_recorded(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    billing_store: InMemoryBillingStore,
    users: InMemoryUserRepository,
    stripe: EmulatedStripe,
    clock: FakeClock,
    event_type: str,
) -> None:
    _, snapshot = subscribed

    outcome = deliver(subscription_event("evt_1", event_type, snapshot, clock.now()))

    assert outcome is Outcome.IGNORED
    assert billing_store.recorded() == []
    assert sum(billing_store.calls.values()) == 0
    assert users.writes == 0
    assert sum(stripe.calls.values()) == 0


# -- an older subscription's news ----------------------------------------------------


@pytest.fixture
def replaced(
    subscribed: tuple[User, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    deliver: Deliver,
    clock: FakeClock,
) -> tuple[User, SubscriptionSnapshot, SubscriptionSnapshot]:
    """alice's first subscription (old) ended; a newer live one (new) is stored."""
    alice, old = subscribed
    stripe.update_subscription(old.id, status="canceled")
    new = stripe.add_subscription(
        old.customer_id, "price_business_month_usd", user_id=alice.id
    )
    clock.advance(timedelta(hours=1))
    deliver(
        subscription_event("evt_new", "customer.subscription.created", new, clock.now())
    )
    stripe.reset_counts()
    return stored_user(users, alice), old, new


def test_a_late_event_about_an_older_subscription_never_replaces_a_newer_live_one(
    deliver: Deliver,
    replaced: tuple[User, SubscriptionSnapshot, SubscriptionSnapshot],
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    alice, old, new = replaced
    late = subscription_event(
        "evt_late",
        "customer.subscription.updated",
        replace(old, cancel_at_period_end=True),
        clock.now() - timedelta(minutes=30),
    )
    ended = subscription_event(
        "evt_end",
        "customer.subscription.deleted",
        replace(old, status="canceled"),
        clock.now() + SECOND,
    )

    deliver(late)
    deliver(ended)

    subscription = stored_user(users, alice).billing.subscription
    assert subscription is not None
    assert (subscription.id, subscription.status) == (new.id, SubscriptionStatus.ACTIVE)


def test_a_late_invoice_of_an_older_subscription_is_not_looked_up(
    deliver: Deliver,
    replaced: tuple[User, SubscriptionSnapshot, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    alice, old, new = replaced
    invoice = stripe.add_invoice(
        old.customer_id, 1500, status="paid", subscription_id=old.id
    )

    deliver(
        invoice_event(
            "evt_inv", "invoice.paid", invoice, clock.now() - timedelta(minutes=30)
        )
    )

    assert stripe.calls["get_subscription"] == 0
    subscription = stored_user(users, alice).billing.subscription
    assert subscription is not None
    assert subscription.id == new.id


def test_a_late_event_of_an_older_subscription_does_not_revive_it_over_an_ended_one(
    deliver: Deliver,
    replaced: tuple[User, SubscriptionSnapshot, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    billing_config: BillingConfig,
    clock: FakeClock,
) -> None:
    alice, old, new = replaced
    assert alice.billing.subscription is not None
    new_since = alice.billing.subscription.observed_at
    clock.advance(timedelta(days=40))
    ended = stripe.update_subscription(new.id, status="canceled")
    deliver(
        subscription_event(
            "evt_end", "customer.subscription.deleted", ended, clock.now()
        )
    )
    # An event of the old subscription from before the new one began (so from
    # before the old one ended), whose deliveries failed until now.
    late = subscription_event(
        "evt_retry",
        "customer.subscription.updated",
        replace(old, status="active"),
        new_since - timedelta(minutes=30),
    )

    deliver(late)

    after = stored_user(users, alice)
    assert billing_config.entitlements(after, clock.now()).plan == FREE


# -- concurrency, failures, signatures -----------------------------------------------


class RacingBillingStore(InMemoryBillingStore):
    """Another request changes the user just before the next ``races`` event
    records, so those records find the user's version moved on."""

    def __init__(self, users: InMemoryUserRepository, races: int) -> None:
        super().__init__(users)
        self._users_repo = users
        self.races = races

    def record_event(
        self,
        event_id: str,
        event_type: str,
        now: datetime,
        expires_at: datetime,
        user: User | None = None,
    ) -> User | None:
        if self.races > 0 and user is not None:
            self.races -= 1
            current = self._users_repo.stored(user.id)
            assert current is not None
            self._users_repo.save(current.with_email_verified())
        return super().record_event(event_id, event_type, now, expires_at, user)


def test_a_concurrent_update_of_the_user_is_retried_and_both_changes_kept(
    users: InMemoryUserRepository,
    stripe: EmulatedStripe,
    submitter: TaskSubmitter,
    billing_config: BillingConfig,
    task_queue: RecordingTaskQueue,
    clock: FakeClock,
    customer: User,
) -> None:
    store = RacingBillingStore(users, races=2)
    assert customer.billing.customer_id is not None
    store.attach_customer(stored_user(users, customer), customer.billing.customer_id)
    orgs, _, _ = org_fakes()
    handle = HandleStripeEvent(
        stripe.verifier,
        users,
        store,
        stripe.provider,
        submitter,
        billing_config,
        clock,
        orgs,
        InMemoryOrgBillingStore(orgs, store),
        AuditTrail(clock, SequentialIds("audit"), timedelta(days=1)),
    )
    snapshot = stripe.add_subscription(
        customer.billing.customer_id, "price_pro_month_usd", user_id=customer.id
    )
    payload, signature = stripe.sign(
        subscription_event(
            "evt_1", "customer.subscription.created", snapshot, clock.now()
        )
    )

    handled = handle.execute(payload, signature)

    assert handled == Handled("evt_1", "customer.subscription.created", Outcome.APPLIED)

    after = stored_user(users, customer)
    assert after.email_verified
    assert after.billing.subscription is not None
    assert after.billing.subscription.id == snapshot.id
    assert store.recorded() == ["evt_1"]
    assert store.calls["record_event"] == 3
    assert len(task_queue.queued) == 1


def test_a_bad_signature_stores_nothing_and_asks_nothing(
    handle: HandleStripeEvent,
    stripe: EmulatedStripe,
    subscribed: tuple[User, SubscriptionSnapshot],
    users: InMemoryUserRepository,
    billing_store: InMemoryBillingStore,
    task_queue: RecordingTaskQueue,
    clock: FakeClock,
) -> None:
    _, snapshot = subscribed
    payload, signature = stripe.sign(
        subscription_event(
            "evt_1",
            "customer.subscription.deleted",
            replace(snapshot, status="canceled"),
            clock.now() + SECOND,
        )
    )

    for body, header in [
        (payload, signature[:-2] + "00"),
        (payload + b"\n", signature),
        (payload, ""),
    ]:
        with pytest.raises(InvalidSignature):
            handle.execute(body, header)

    assert billing_store.recorded() == []
    assert sum(billing_store.calls.values()) == 0
    assert users.writes == 0
    assert sum(stripe.calls.values()) == 0
    assert task_queue.queued == []


def test_stripe_down_while_rereading_fails_the_delivery_and_records_nothing(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    billing_store: InMemoryBillingStore,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    alice, snapshot = subscribed
    invoice = fail_payment(stripe, snapshot)
    stripe.fail("get_subscription")

    with pytest.raises(DependencyUnavailable):
        deliver(invoice_event("evt_f", "invoice.payment_failed", invoice, clock.now()))

    assert not billing_store.was_processed("evt_f")
    assert stored_user(users, alice) == alice


def test_an_email_that_could_not_be_queued_is_queued_when_stripe_retries(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    task_queue: RecordingTaskQueue,
    clock: FakeClock,
) -> None:
    _, snapshot = subscribed
    ended = stripe.update_subscription(snapshot.id, status="canceled")
    event = subscription_event(
        "evt_del", "customer.subscription.deleted", ended, clock.now() + SECOND
    )
    task_queue.fail = DependencyUnavailable()
    with pytest.raises(DependencyUnavailable):
        deliver(event)
    task_queue.fail = None

    deliver(event)

    assert emails(task_queue) == [("stripe-evt_del", "subscription_canceled")]


# -- one live subscription per user --------------------------------------------------


def test_a_second_live_subscription_is_canceled_at_stripe_and_the_first_kept(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    alice, first = subscribed
    # A second checkout, paid in another tab before the first was stored.
    second = stripe.add_subscription(
        first.customer_id, "price_business_month_usd", user_id=alice.id
    )
    clock.advance(SECOND * 5)

    deliver(
        subscription_event(
            "evt_second", "customer.subscription.created", second, clock.now()
        )
    )

    kept = stored_user(users, alice).billing.subscription
    assert kept is not None
    assert kept.id == first.id
    assert stripe.subscriptions[second.id].status == "canceled"
    assert stripe.subscriptions[first.id].status == "active"
    assert stripe.calls["cancel_now"] == 1


def test_a_newcomer_takes_the_place_of_one_that_ended_at_stripe_unseen(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    alice, first = subscribed
    # The first ended at Stripe, and its webhook was lost.
    stripe.update_subscription(first.id, status="canceled")
    second = stripe.add_subscription(
        first.customer_id, "price_business_month_usd", user_id=alice.id
    )
    clock.advance(SECOND * 5)

    deliver(
        subscription_event(
            "evt_second", "customer.subscription.created", second, clock.now()
        )
    )

    now_stored = stored_user(users, alice).billing.subscription
    assert now_stored is not None
    assert now_stored.id == second.id
    assert stripe.calls["cancel_now"] == 0


def test_an_invoice_of_a_subscription_stripe_does_not_know_is_recorded_and_ignored(
    deliver: Deliver,
    customer: User,
    stripe: EmulatedStripe,
    billing_store: InMemoryBillingStore,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    assert customer.billing.customer_id is not None
    gone = stripe.add_subscription(customer.billing.customer_id, "price_pro_month_usd")
    invoice = stripe.add_invoice(
        customer.billing.customer_id, 1500, status="paid", subscription_id=gone.id
    )
    stripe.forget_subscription(gone.id)

    outcome = deliver(invoice_event("evt_gone", "invoice.paid", invoice, clock.now()))

    assert outcome is Outcome.IGNORED
    assert billing_store.was_processed("evt_gone")
    assert stored_user(users, customer).billing.subscription is None
    # Stripe's retry of it is a duplicate, not another lookup.
    assert (
        deliver(invoice_event("evt_gone", "invoice.paid", invoice, clock.now()))
        is Outcome.DUPLICATE
    )


def test_a_checkout_whose_metadata_names_a_user_without_a_customer_attaches_nothing(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    seed: Seed,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    """The reported hole: a signed checkout.session.completed whose metadata names
    mallory (no customer) handed alice's customer and subscription to mallory."""
    alice, snapshot = subscribed
    mallory = seed("mallory")
    checkout = CheckoutSnapshot(
        id="cs_forged",
        customer_id=alice.billing.customer_id,
        subscription_id=snapshot.id,
        user_id=mallory.id,
    )

    deliver(
        BillingEvent(
            "evt_cs",
            "checkout.session.completed",
            clock.now() + SECOND,
            checkout=checkout,
        )
    )

    assert stored_user(users, mallory) == mallory
    assert stored_user(users, mallory).billing.subscription is None
    still = stored_user(users, alice).billing.subscription
    assert still is not None
    assert still.id == snapshot.id


def test_a_reread_subscription_of_another_customer_is_not_stored(
    deliver: Deliver,
    customer: User,
    seed: Seed,
    subscribe: Subscribe,
    users: InMemoryUserRepository,
    clock: FakeClock,
) -> None:
    """A checkout of alice's own customer that names bobby's subscription: the
    re-read subscription's customer is bobby's, so alice gets nothing."""
    _, theirs = subscribe(seed("bobby"))
    checkout = CheckoutSnapshot(
        id="cs_mixed",
        customer_id=customer.billing.customer_id,
        subscription_id=theirs.id,
        user_id=customer.id,
    )

    deliver(
        BillingEvent(
            "evt_cs", "checkout.session.completed", clock.now(), checkout=checkout
        )
    )

    assert stored_user(users, customer).billing.subscription is None


def test_the_started_email_waits_until_the_subscription_is_active(
    deliver: Deliver,
    customer: User,
    stripe: EmulatedStripe,
    task_queue: RecordingTaskQueue,
    clock: FakeClock,
) -> None:
    assert customer.billing.customer_id is not None
    snapshot = stripe.add_subscription(
        customer.billing.customer_id,
        "price_pro_month_usd",
        status="incomplete",
        user_id=customer.id,
    )

    deliver(
        subscription_event(
            "evt_1", "customer.subscription.created", snapshot, clock.now()
        )
    )
    assert emails(task_queue) == []

    paid = replace(snapshot, status="active")
    deliver(
        subscription_event(
            "evt_2", "customer.subscription.updated", paid, clock.now() + SECOND
        )
    )
    deliver(
        subscription_event(
            "evt_3",
            "customer.subscription.updated",
            replace(paid, cancel_at_period_end=True),
            clock.now() + 2 * SECOND,
        )
    )

    assert emails(task_queue) == [("stripe-evt_2", "subscription_started")]


def test_a_price_in_no_plan_is_logged_loudly_and_a_legacy_price_keeps_its_plan(
    customer: User,
    stripe: EmulatedStripe,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert customer.billing.customer_id is not None
    snapshot = replace(
        stripe.add_subscription(
            customer.billing.customer_id, "price_pro_month_usd", user_id=customer.id
        ),
        price_id="price_pro_2019",
    )

    with caplog.at_level(logging.ERROR, logger="strata.billing"):
        unknown = subscription_from(snapshot, CATALOG, clock.now(), None)
    assert unknown.plan_key == ""
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "price_pro_2019" in str(caplog.records[0].__dict__)

    caplog.clear()
    legacy = replace(CATALOG, legacy={"price_pro_2019": ("pro", Interval.YEAR)})
    kept = subscription_from(snapshot, legacy, clock.now(), None)
    assert (kept.plan_key, kept.interval) == ("pro", Interval.YEAR)
    assert caplog.records == []


def test_a_deleted_customer_clears_the_users_customer_and_subscription(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    users: InMemoryUserRepository,
    billing_config: BillingConfig,
    clock: FakeClock,
) -> None:
    alice, _ = subscribed
    assert alice.billing.customer_id is not None

    outcome = deliver(
        BillingEvent(
            "evt_del",
            "customer.deleted",
            clock.now() + SECOND,
            customer_id=alice.billing.customer_id,
        )
    )

    assert outcome is Outcome.APPLIED
    stored = stored_user(users, alice)
    assert stored.billing.customer_id is None
    # Kept only as ended (no second trial), so nothing is in force.
    assert stored.billing.subscription is not None
    assert stored.billing.subscription.status is SubscriptionStatus.CANCELED
    assert billing_config.entitlements(stored, clock.now()).plan == FREE


def test_a_bank_transfer_subscription_grants_nothing_until_an_invoice_is_paid(
    customer: User,
    stripe: EmulatedStripe,
    billing_config: BillingConfig,
    clock: FakeClock,
) -> None:
    assert customer.billing.customer_id is not None
    snapshot = stripe.add_subscription(
        customer.billing.customer_id,
        "price_business_month_usd",
        user_id=customer.id,
        collection_method="send_invoice",
    )

    unpaid = subscription_from(snapshot, CATALOG, clock.now(), None)
    user = customer.with_billing(customer.billing.with_subscription(unpaid))
    assert unpaid.awaiting_first_payment
    assert unpaid.shown_status is SubscriptionStatus.INCOMPLETE
    assert billing_config.entitlements(user, clock.now()).plan == FREE

    paid = subscription_from(
        replace(snapshot, latest_invoice_paid=True), CATALOG, clock.now(), unpaid
    )
    assert not paid.awaiting_first_payment
    assert paid.paid_by_invoice
    user = customer.with_billing(customer.billing.with_subscription(paid))
    # Only to verified accounts.
    assert billing_config.entitlements(user, clock.now()).plan == FREE
    user = user.with_email_verified()
    assert billing_config.entitlements(user, clock.now()).plan == BUSINESS
    # A later open renewal invoice does not take it back (past_due does that).
    renewed = subscription_from(snapshot, CATALOG, clock.now() + SECOND, paid)
    assert not renewed.awaiting_first_payment


# -- refunds and disputes --------------------------------------------------------------


def dispute_event(
    event_id: str, event_type: str, charge_id: str, status: str, created: datetime
) -> BillingEvent:
    dispute = DisputeSnapshot(
        id="dp_1", charge_id=charge_id, amount=1500, currency="usd", status=status
    )
    return BillingEvent(event_id, event_type, created, dispute=dispute)


def test_a_lost_dispute_ends_the_paid_plan_without_credit_and_tells_everyone(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    task_queue: RecordingTaskQueue,
    billing_config: BillingConfig,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    alice, snapshot = subscribed
    assert alice.billing.customer_id is not None
    charge = stripe.add_charge(alice.billing.customer_id, 1500)

    with caplog.at_level(logging.WARNING, logger="strata.billing"):
        deliver(
            dispute_event(
                "evt_d1",
                "charge.dispute.created",
                charge.id,
                "needs_response",
                clock.now() + SECOND,
            )
        )
        # Opened: nothing changes yet.
        assert (
            billing_config.entitlements(stored_user(users, alice), clock.now()).plan
            == PRO
        )
        deliver(
            dispute_event(
                "evt_d2",
                "charge.dispute.closed",
                charge.id,
                "lost",
                clock.now() + 2 * SECOND,
            )
        )

    stored = stored_user(users, alice)
    assert stored.billing.subscription is not None
    assert stored.billing.subscription.status is SubscriptionStatus.CANCELED
    assert billing_config.entitlements(stored, clock.now()).plan == FREE
    assert stripe.subscriptions[snapshot.id].status == "canceled"
    assert stripe.cancel_credits == [False]
    assert emails(task_queue) == [
        ("stripe-evt_d1", "dispute_opened"),
        ("stripe-evt_d2", "dispute_lost"),
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "stripe dispute lost: paid features end" in warnings


def test_a_won_dispute_and_a_refund_keep_the_plan(
    deliver: Deliver,
    subscribed: tuple[User, SubscriptionSnapshot],
    stripe: EmulatedStripe,
    users: InMemoryUserRepository,
    task_queue: RecordingTaskQueue,
    billing_config: BillingConfig,
    clock: FakeClock,
) -> None:
    alice, _ = subscribed
    assert alice.billing.customer_id is not None
    charge = stripe.add_charge(alice.billing.customer_id, 1500)

    deliver(
        dispute_event(
            "evt_d", "charge.dispute.closed", charge.id, "won", clock.now() + SECOND
        )
    )
    deliver(
        BillingEvent(
            "evt_r",
            "charge.refunded",
            clock.now() + SECOND,
            charge=replace(charge, amount_refunded=500),
        )
    )

    assert (
        billing_config.entitlements(stored_user(users, alice), clock.now()).plan == PRO
    )
    assert stripe.calls["cancel_now"] == 0
    assert emails(task_queue) == [("stripe-evt_r", "refund_issued")]
