"""The ports, faked in memory, and helpers to put users and sessions in them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from core.adapters.stripe.provider import StripePaymentProvider
from core.application.billing import (
    BillingConfig,
    Customers,
    SubscriptionWriter,
    subscription_from,
)
from core.application.limits import EmailPolicy, EmailThrottle
from core.application.org_features import AUDIT_LOG
from core.application.organizations import AuditTrail, InvitationPolicy
from core.application.ports import SubscriptionSnapshot
from core.application.registration import Registrar
from core.application.tasks import TaskSubmitter
from core.domain.billing import USERS_EXPORT, Interval, Plan, PlanCatalog, Price
from core.domain.password import PasswordPolicy
from core.domain.session import Session
from core.domain.user import Email, Role, User, Username
from tests.fakes import (
    FakeClock,
    FakeCursorCodec,
    FakePasswordHasher,
    FakeTokenCodec,
    InMemoryAuditLog,
    InMemoryBillingStore,
    InMemoryInvitationStore,
    InMemoryOneTimeTokens,
    InMemoryOrganizationStore,
    InMemoryOrgBillingStore,
    InMemoryRateLimiter,
    InMemorySessionStore,
    InMemoryTaskStore,
    InMemoryUserRepository,
    RecordingMailer,
    RecordingTaskQueue,
    SequentialIds,
    org_fakes,
)
from tests.stripe_inprocess import EmulatedStripe, emulated_stripe

SESSION_TTL = timedelta(hours=1)
RENEW_THRESHOLD = 0.5
PASSWORD = "correct horse battery"

Seed = Callable[..., User]
OpenSession = Callable[[User], tuple[Session, str]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ids() -> SequentialIds:
    return SequentialIds()


@pytest.fixture
def users() -> InMemoryUserRepository:
    return InMemoryUserRepository()


@pytest.fixture
def sessions(users: InMemoryUserRepository) -> InMemorySessionStore:
    return InMemorySessionStore(users)


@pytest.fixture
def hasher() -> FakePasswordHasher:
    return FakePasswordHasher()


@pytest.fixture
def tokens(clock: FakeClock) -> FakeTokenCodec:
    return FakeTokenCodec(clock)


@pytest.fixture
def cursors() -> FakeCursorCodec:
    return FakeCursorCodec()


@pytest.fixture
def policy() -> PasswordPolicy:
    return PasswordPolicy(min_length=8)


@pytest.fixture
def registrar(
    users: InMemoryUserRepository,
    hasher: FakePasswordHasher,
    ids: SequentialIds,
    clock: FakeClock,
    policy: PasswordPolicy,
) -> Registrar:
    return Registrar(users, hasher, ids, clock, policy)


@pytest.fixture
def seed(
    users: InMemoryUserRepository,
    hasher: FakePasswordHasher,
    ids: SequentialIds,
    clock: FakeClock,
) -> Seed:
    """Stores a user directly (not through the code under test) and returns it as
    stored, version included. Resets the repository's call counts."""

    def make(
        username: str,
        role: Role = Role.USER,
        *,
        active: bool = True,
        password: str = PASSWORD,
        email: str | None = None,
    ) -> User:
        user = User(
            id=ids.new_id(),
            username=Username(username),
            email=Email(email or f"{username.lower()}@example.com"),
            password_hash=hasher.hash(password),
            role=role,
            is_active=active,
            created_at=clock.now(),
        )
        users.add(user)
        users.calls.clear()
        stored = users.stored(user.id)
        assert stored is not None
        return stored

    return make


@pytest.fixture
def open_session(
    sessions: InMemorySessionStore,
    tokens: FakeTokenCodec,
    ids: SequentialIds,
    clock: FakeClock,
) -> OpenSession:
    """Stores a fresh session of ``user`` in the user's current epoch and returns it
    with its token. Resets the store's call counts."""

    def make(user: User) -> tuple[Session, str]:
        now = clock.now()
        session = Session(
            id=ids.new_id(),
            user_id=user.id,
            created_at=now,
            expires_at=now + SESSION_TTL,
            epoch=user.session_epoch,
        )
        sessions.add(session)
        sessions.calls.clear()
        return session, tokens.issue(session)

    return make


# -- email, link tokens and task submission (the email work) ---------------------------

TASK_KEEP = timedelta(days=7)


@pytest.fixture
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture
def link_tokens() -> InMemoryOneTimeTokens:
    return InMemoryOneTimeTokens()


@pytest.fixture
def task_store(clock: FakeClock) -> InMemoryTaskStore:
    return InMemoryTaskStore(clock)


@pytest.fixture
def task_queue() -> RecordingTaskQueue:
    return RecordingTaskQueue()


@pytest.fixture
def submitter(
    task_store: InMemoryTaskStore,
    task_queue: RecordingTaskQueue,
    clock: FakeClock,
) -> TaskSubmitter:
    return TaskSubmitter(
        task_store, task_queue, SequentialIds("task"), clock, TASK_KEEP
    )


class RacingUsers(InMemoryUserRepository):
    """Another update of the user lands just before each of the next ``races``
    saves, so those saves find the version moved on."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races

    def save(self, user: User) -> User:
        if self.races > 0:
            self.races -= 1
            stored = self.stored(user.id)
            assert stored is not None
            super().save(stored)  # someone else's write moves the version on
        return super().save(user)


# -- billing ---------------------------------------------------------------------------

GRACE = timedelta(days=7)
EVENT_KEEP = timedelta(days=30)
INVOICE_DAYS = 14
SUCCESS_URL = "https://app.example/billing/success?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://app.example/billing/cancel"
PORTAL_RETURN_URL = "https://app.example/billing"

FREE = Plan(key="free", name="Free", limits={"seats": 1})
PRO = Plan(
    key="pro",
    name="Pro",
    features=frozenset({USERS_EXPORT}),
    limits={"seats": 5},
    prices=(
        Price("price_pro_month_usd", Interval.MONTH, "usd", 1500),
        Price("price_pro_year_usd", Interval.YEAR, "usd", 15000),
        Price("price_pro_month_eur", Interval.MONTH, "eur", 1400),
    ),
)
BUSINESS = Plan(
    key="business",
    name="Business",
    features=frozenset({USERS_EXPORT, "priority_support", AUDIT_LOG}),
    limits={"seats": 50},
    prices=(
        Price("price_business_month_usd", Interval.MONTH, "usd", 4500),
        Price("price_business_year_usd", Interval.YEAR, "usd", 45000),
    ),
    bank_transfer=True,
    trial_days=14,
)
# Sold per seat (organizations); in the catalog of the seat tests only.
SEAT_PRICE = 800
TEAM = Plan(
    key="team",
    name="Team",
    features=frozenset({AUDIT_LOG}),
    limits={"seats": 20},
    prices=(Price("price_team_month_usd", Interval.MONTH, "usd", SEAT_PRICE),),
    per_seat=True,
)
CATALOG = PlanCatalog(plans=(FREE, PRO, BUSINESS))

Subscribe = Callable[..., tuple[User, SubscriptionSnapshot]]


@pytest.fixture
def catalog() -> PlanCatalog:
    return CATALOG


@pytest.fixture
def billing_config(catalog: PlanCatalog) -> BillingConfig:
    return BillingConfig(
        catalog=catalog,
        grace=GRACE,
        proration_behavior="always_invoice",
        invoice_days_until_due=INVOICE_DAYS,
        event_keep=EVENT_KEEP,
        success_url=SUCCESS_URL,
        cancel_url=CANCEL_URL,
        portal_return_url=PORTAL_RETURN_URL,
    )


@pytest.fixture
def billing_store(users: InMemoryUserRepository) -> InMemoryBillingStore:
    return InMemoryBillingStore(users)


@pytest.fixture
def stripe(clock: FakeClock, catalog: PlanCatalog) -> EmulatedStripe:
    """Stripe: the emulator, in-process, on the test's clock."""
    return emulated_stripe(clock, catalog)


@pytest.fixture
def provider(stripe: EmulatedStripe) -> StripePaymentProvider:
    """Strata's Stripe adapter, over ``stripe``."""
    return stripe.provider


@pytest.fixture
def customers(
    users: InMemoryUserRepository,
    billing_store: InMemoryBillingStore,
    provider: StripePaymentProvider,
) -> Customers:
    return Customers(users, billing_store, provider)


@pytest.fixture
def writer(users: InMemoryUserRepository, catalog: PlanCatalog) -> SubscriptionWriter:
    return SubscriptionWriter(users, catalog)


@pytest.fixture
def subscribe(
    users: InMemoryUserRepository,
    billing_store: InMemoryBillingStore,
    stripe: EmulatedStripe,
    catalog: PlanCatalog,
    clock: FakeClock,
) -> Subscribe:
    """Gives a stored user a Stripe customer and a subscription to ``price_id``,
    at Stripe and stored on the user as of ``clock.now()`` (as a webhook would have
    stored it), and returns the user as stored with the subscription's snapshot.
    Resets every call count."""

    def make(
        user: User,
        price_id: str = "price_pro_month_usd",
        *,
        status: str = "active",
        past_due_since: datetime | None = None,
    ) -> tuple[User, SubscriptionSnapshot]:
        customer_id = user.billing.customer_id or stripe.provider.create_customer(
            user.id, user.email.value, idempotency_key=f"customer-{user.id}"
        )
        if user.billing.customer_id is None:
            user = billing_store.attach_customer(user, customer_id)
        snapshot = stripe.add_subscription(
            customer_id, price_id, status=status, user_id=user.id
        )
        subscription = replace(
            subscription_from(snapshot, catalog, clock.now(), None),
            past_due_since=past_due_since,
        )
        user = users.save(
            user.with_billing(user.billing.with_subscription(subscription))
        )
        users.calls.clear()
        billing_store.calls.clear()
        stripe.reset_counts()
        return user, snapshot

    return make


@pytest.fixture
def attempts() -> InMemoryRateLimiter:
    return InMemoryRateLimiter()


@pytest.fixture
def throttle(attempts: InMemoryRateLimiter, clock: FakeClock) -> EmailThrottle:
    """The email limits at their defaults: one email of a kind per address per 5
    minutes, ten per client per hour."""
    return EmailThrottle(attempts, clock, EmailPolicy())


# -- organizations ---------------------------------------------------------------------

AUDIT_RETENTION = timedelta(days=365)
INVITATION_POLICY = InvitationPolicy(per_org=5, per_address=2)


@pytest.fixture
def org_stores() -> tuple[
    InMemoryOrganizationStore, InMemoryInvitationStore, InMemoryAuditLog
]:
    return org_fakes()


@pytest.fixture
def orgs(
    org_stores: tuple[
        InMemoryOrganizationStore, InMemoryInvitationStore, InMemoryAuditLog
    ],
) -> InMemoryOrganizationStore:
    return org_stores[0]


@pytest.fixture
def invitations(
    org_stores: tuple[
        InMemoryOrganizationStore, InMemoryInvitationStore, InMemoryAuditLog
    ],
) -> InMemoryInvitationStore:
    return org_stores[1]


@pytest.fixture
def audit_log(
    org_stores: tuple[
        InMemoryOrganizationStore, InMemoryInvitationStore, InMemoryAuditLog
    ],
) -> InMemoryAuditLog:
    return org_stores[2]


@pytest.fixture
def org_billing(
    orgs: InMemoryOrganizationStore, billing_store: InMemoryBillingStore
) -> InMemoryOrgBillingStore:
    return InMemoryOrgBillingStore(orgs, billing_store)


@pytest.fixture
def trail(clock: FakeClock) -> AuditTrail:
    return AuditTrail(clock, SequentialIds("audit"), AUDIT_RETENTION, lambda: "req-1")
