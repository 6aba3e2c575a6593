"""Ports: what the application needs from the outside world, named by what it is.

Adapters in ``core.adapters`` implement them; tests use in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from core.domain.session import Session
from core.domain.task import Task
from core.domain.user import Email, Role, User, Username


class UserSort(StrEnum):
    USERNAME = "username"
    CREATED_AT = "created_at"


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


# Where a listing stopped: storage keys, opaque to the application.
Position = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class UserPage:
    items: Sequence[User]
    next_position: Position | None


@dataclass(frozen=True, slots=True)
class UserSummary:
    """What a listing of users shows of each (the admin's list, the export): no
    password hash, no billing, no version, so it is never saved back. Storage
    can read a page of these from an index that carries nothing more."""

    id: str
    username: Username
    email: Email
    role: Role
    is_active: bool
    email_verified: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserSummary:
        return cls(
            id=user.id,
            username=user.username,
            email=user.email,
            role=user.role,
            is_active=user.is_active,
            email_verified=user.email_verified,
            created_at=user.created_at,
        )


@dataclass(frozen=True, slots=True)
class UserSummaryPage:
    items: Sequence[UserSummary]
    next_position: Position | None


class UserRepository(Protocol):
    """Stores users; usernames and emails are unique case-insensitively.

    ``add`` is atomic: it stores the user and claims the username and the email, or
    raises ``UsernameTaken`` / ``EmailTaken`` and stores nothing; it returns the user
    as stored, with its first version. ``save`` writes only
    if the stored ``version`` is still the one read, else raises ``ConcurrentUpdate``.
    """

    def add(self, user: User) -> User: ...

    def get(self, user_id: str) -> User | None: ...

    def get_by_username(self, username_key: str) -> User | None: ...

    def get_by_email(self, email_key: str) -> User | None: ...

    def save(self, user: User) -> User:
        """Store ``user`` and return it with its new version."""
        ...

    def remove(self, user: User) -> None:
        """Delete ``user`` and free its username and email, atomically, if the
        stored version is still ``user.version`` and the stored user has neither a
        Stripe customer nor a subscription (never delete who pays); else
        ``ConcurrentUpdate``."""
        ...

    def list_unverified(
        self, created_before: datetime, limit: int, start: Position | None
    ) -> UserPage:
        """One page of the users whose email is unverified and who were created
        before ``created_before``, oldest first, without scanning the table. The
        listing may lag a moment behind writes (a secondary index)."""
        ...

    def list_page(
        self,
        sort: UserSort,
        order: SortOrder,
        limit: int,
        start: Position | None,
    ) -> UserSummaryPage:
        """One page of users in the given order, without scanning the table: what
        a listing shows of each (``UserSummary``), not whole users.

        ``start`` is a position returned by an earlier page of the same sort and
        order; ``next_position`` is ``None`` on the last page.
        """
        ...


class SessionStore(Protocol):
    """Stores sessions. Reads check expiry themselves: storage TTL deletion lags."""

    def add(self, session: Session, settle: Settlement | None = None) -> None:
        """Store a new session; with ``settle``, settle the log-in's rate-limit
        counters in the same write (both live in the sessions storage)."""
        ...

    def get_with_user(
        self, session_id: str, user_id: str
    ) -> tuple[Session | None, User | None]:
        """The session and the user it should belong to, fetched in one round trip."""
        ...

    def extend(self, session_id: str, expires_at: datetime) -> None:
        """Move the expiry of a session that still exists, else do nothing.

        It writes the expiry alone, so a renewal racing a password change can never
        put back the epoch the change moved the session out of.
        """
        ...

    def move_to_epoch(self, session_id: str, epoch: int) -> None:
        """Set the epoch of a session that still exists, else do nothing."""
        ...

    def delete(self, session_id: str) -> None: ...

    def delete_all_for_user(self, user_id: str, keep: str | None = None) -> int:
        """End every session of ``user_id`` but ``keep``; returns how many ended."""
        ...


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``max_hits`` hits of one key per ``window``. ``name`` keeps the
    counters of different limits apart (a username's log-ins, a client's emails)."""

    name: str
    max_hits: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class Hit:
    """One hit counted against ``limit`` for ``key``; ``counter`` names the stored
    counter it went to (a fixed window), so it can be handed back or cleared."""

    limit: Limit
    key: str
    counter: str
    window_ends_at: datetime


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a successful log-in does to the counters it hit: ``clear`` forgets
    their windows (the username's failures), ``refund`` gives the hit back (the
    client's, so a right password does not count as a failure)."""

    clear: tuple[Hit, ...] = ()
    refund: tuple[Hit, ...] = ()


class RateLimiter(Protocol):
    """Counters in shared storage, one per key and fixed window (``window`` long,
    aligned on multiples of it), so a limit holds across instances.

    ``hit`` is one conditional write that counts the hit only while the window is
    below the limit, and raises ``TooManyAttempts`` otherwise: however many hits arrive
    at once, at most ``max_hits`` are let through per window (fails closed: a hit
    that cannot be counted is refused or raises ``DependencyUnavailable``).
    ``hit_all`` does the same for several counters at once, all or nothing, in one
    write (a log-in reserves its client's and its username's attempts together).
    """

    def hit(self, limit: Limit, key: str, now: datetime) -> Hit: ...

    def hit_all(
        self, keys: Sequence[tuple[Limit, str]], now: datetime
    ) -> tuple[Hit, ...]:
        """One hit on each ``(limit, key)``, all in one atomic write: every hit is
        counted or none is. If any of them is at its limit nothing is counted and
        ``TooManyAttempts`` is raised, its ``retry_after`` the longest wait among
        the refused ones; a write that meets others in flight on the same counters
        and cannot be made is refused the same way (fails closed). The hits come
        back in the order of ``keys``."""
        ...

    def refund(self, hit: Hit) -> None:
        """Give a hit back (it turned out not to count, such as a right password)."""
        ...

    def clear(self, limit: Limit, key: str, now: datetime) -> None:
        """Forget the current window of ``key`` (a successful log-in or reset)."""
        ...


class PasswordHasher(Protocol):
    """Turns passwords into slow, salted, peppered hashes and checks them."""

    def hash(self, password: str) -> str: ...

    def verify(self, password: str, password_hash: str) -> bool: ...

    def dummy_verify(self, password: str) -> None:
        """Spend the time of one ``verify`` on nothing, so that a missing user and a
        wrong password cannot be told apart by timing."""
        ...


@dataclass(frozen=True, slots=True)
class TokenClaims:
    session_id: str
    user_id: str
    expires_at: datetime


class TokenCodec(Protocol):
    """Issues the signed token that names a session, and reads it back.

    ``read`` raises ``NotAuthenticated`` for anything but an authentic, unexpired
    token; it never touches storage.
    """

    def issue(self, session: Session) -> str: ...

    def read(self, token: str) -> TokenClaims: ...


class CursorCodec(Protocol):
    """Turns a storage position into an opaque, tamper-proof cursor and back.

    A cursor is bound to its ``scope`` (the query it came from): ``decode`` raises
    ``InvalidCursor`` for a forged, altered or foreign cursor.
    """

    def encode(self, position: Position, scope: str) -> str: ...

    def decode(self, cursor: str, scope: str) -> Position: ...


class Clock(Protocol):
    """The current time, timezone-aware UTC."""

    def now(self) -> datetime: ...


class IdGenerator(Protocol):
    """Fresh unique ids for users and sessions, unguessable where they must be."""

    def new_id(self) -> str: ...


class TaskStore(Protocol):
    """Task records: what was asked, by whom, and how it went; kept until their
    ``expires_at`` (reads check it, storage TTL deletion lags)."""

    def add(self, task: Task) -> None:
        """Store a new task; ``TaskExists`` if one with its id is stored already."""
        ...

    def get(self, task_id: str) -> Task | None: ...

    def claim(self, task_id: str, now: datetime, lease: timedelta) -> Task | None:
        """Mark the task running and count an attempt, if it is queued, or running
        with its lease run out (its worker died). ``None`` when it has finished or
        another worker holds it: that delivery is a duplicate and must do nothing.
        This is what makes a task run at most once to completion."""
        ...

    def finish(self, task: Task) -> None:
        """Store the outcome of an attempt (``Task.succeeded`` / ``Task.failed``)."""
        ...


class TaskQueue(Protocol):
    """Hands a stored task to the workers, at least once: a task may arrive twice,
    and ``TaskStore.claim`` turns the second arrival into a no-op."""

    def enqueue(self, task: Task) -> None: ...


class Mailer(Protocol):
    """Sends one email built from a named template (an HTML and a plain-text part)
    with ``context``. Only workers call it: requests enqueue a task instead."""

    def send(self, to: str, template: str, context: Mapping[str, str]) -> None: ...


@dataclass(frozen=True, slots=True)
class LinkGrant:
    """What a used link token was issued for: the user, and the user's epoch then
    (``User.session_epoch``, which every password change and reset moves on), so a
    token issued before a password change can be refused."""

    user_id: str
    epoch: int


class OneTimeTokens(Protocol):
    """Random, single-use, expiring tokens for links in emails; only their hash is
    stored, so a leaked table cannot be used to verify or reset anything."""

    def issue(
        self, purpose: str, user_id: str, now: datetime, ttl: timedelta, epoch: int = 0
    ) -> str:
        """A new token for ``user_id`` in ``epoch``; the raw value exists only in
        the return."""
        ...

    def consume(self, purpose: str, token: str, now: datetime) -> LinkGrant | None:
        """What the token was issued for, deleting it in the same step; or ``None``
        if it is unknown, used, expired or for another purpose."""
        ...


class ExportStore(Protocol):
    """Large files written piece by piece (never whole in memory), read back
    through a time-limited link."""

    def write(self, key: str, chunks: Iterable[bytes], content_type: str) -> int:
        """Store the concatenated ``chunks`` under ``key``; returns the byte count."""
        ...

    def link(self, key: str, expires_in: timedelta) -> str: ...


# -- billing -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriptionSnapshot:
    """A Stripe subscription as Stripe states it (one price, one item).

    ``current_period_end`` comes from the subscription's item, where the current
    API keeps it. ``user_id`` is the metadata we set at checkout, if present.
    """

    id: str
    customer_id: str
    status: str
    price_id: str
    item_id: str
    currency: str
    current_period_end: datetime | None
    cancel_at_period_end: bool
    trial_end: datetime | None = None
    user_id: str | None = None
    # A change made with ``pending_if_incomplete`` whose invoice is not paid: the
    # items above are still the old ones, and ``payment_url`` is that invoice's
    # hosted page (when the latest invoice was expanded).
    pending_update: bool = False
    payment_url: str | None = None
    # ``send_invoice`` for one paid by invoice (bank transfer).
    collection_method: str = "charge_automatically"
    # Whether the latest invoice is paid (only known when it was expanded).
    latest_invoice_paid: bool = False
    # The item's quantity: seats, for a per-seat plan (1 for a person's).
    quantity: int = 1
    # The organization a per-seat subscription is for (its metadata's org_id).
    org_id: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceSnapshot:
    """A Stripe invoice; ``subscription_id`` is read from
    ``parent.subscription_details``, as the current API shapes it."""

    id: str
    customer_id: str
    status: str
    amount_due: int
    amount_paid: int
    currency: str
    created: datetime
    number: str | None = None
    hosted_invoice_url: str | None = None
    invoice_pdf: str | None = None
    subscription_id: str | None = None


@dataclass(frozen=True, slots=True)
class CheckoutSnapshot:
    """A completed Checkout Session: who it was for and what it made."""

    id: str
    customer_id: str | None
    subscription_id: str | None
    user_id: str | None
    # Set for an organization's checkout (``create_seat_checkout``).
    org_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChargeSnapshot:
    """A Stripe charge: whose, how much, how much of it was refunded."""

    id: str
    customer_id: str | None
    amount: int
    amount_refunded: int
    currency: str


@dataclass(frozen=True, slots=True)
class DisputeSnapshot:
    """A Stripe dispute (chargeback) of a charge; ``status`` as Stripe spells it
    (``needs_response`` ... ``won`` or ``lost``)."""

    id: str
    charge_id: str
    amount: int
    currency: str
    status: str


@dataclass(frozen=True, slots=True)
class BillingEvent:
    """A verified Stripe event, reduced to what Strata reads. Exactly one of the
    object fields is set for the event types Strata handles; none for the rest."""

    id: str
    type: str
    created: datetime
    subscription: SubscriptionSnapshot | None = None
    invoice: InvoiceSnapshot | None = None
    checkout: CheckoutSnapshot | None = None
    # ``customer.deleted``: the customer's id.
    customer_id: str | None = None
    charge: ChargeSnapshot | None = None
    dispute: DisputeSnapshot | None = None


@dataclass(frozen=True, slots=True)
class InvoicePage:
    items: Sequence[InvoiceSnapshot]
    # The last invoice's id when more follow (Stripe's ``starting_after``).
    next_after: str | None


@dataclass(frozen=True, slots=True)
class SubscriptionPage:
    items: Sequence[SubscriptionSnapshot]
    # The last subscription's id when more follow (Stripe's ``starting_after``).
    next_after: str | None


@dataclass(frozen=True, slots=True)
class ProrationPreview:
    """What a plan change would invoice now, at ``proration_date`` (epoch seconds):
    passing the same date to the change charges exactly this."""

    amount_due: int
    currency: str
    proration_date: int


@dataclass(frozen=True, slots=True)
class SeatChange:
    """What setting a per-seat subscription's quantity did at Stripe: the
    quantity it now bills, and the invoice that charged (or credited) the
    prorated difference when Stripe made one at once (``always_invoice``; with
    ``create_prorations`` the difference waits for the next invoice: None)."""

    subscription: SubscriptionSnapshot
    quantity: int
    invoice_id: str | None


class PaymentProvider(Protocol):
    """Stripe, as Strata uses it. Every write takes an ``idempotency_key`` made from
    our own ids, so a retried request can never charge or create twice.

    Raises ``PaymentProviderUnavailable`` when Stripe cannot be reached (after the
    client's own retries) and ``PaymentProviderRejected`` when it refuses a request.
    """

    def create_customer(self, user_id: str, email: str, *, idempotency_key: str) -> str:
        """A new customer carrying ``user_id`` in its metadata; returns its id."""
        ...

    def create_checkout(
        self,
        *,
        customer_id: str,
        price_id: str,
        user_id: str,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
        trial_days: int = 0,
    ) -> str:
        """A Checkout Session in subscription mode for one price, with
        ``client_reference_id`` and metadata naming the user; returns its URL."""
        ...

    def create_seat_checkout(
        self,
        *,
        customer_id: str,
        price_id: str,
        org_id: str,
        quantity: int,
        success_url: str,
        cancel_url: str,
        idempotency_key: str,
        trial_days: int = 0,
    ) -> str:
        """A Checkout Session in subscription mode for ``quantity`` seats of one
        price (an organization's member count), with the session's and the
        subscription's metadata naming the organization (``org_id``) and no
        ``client_reference_id`` (no user owns it); returns its URL. ``ValueError``
        for a quantity below 1."""
        ...

    def create_invoiced_subscription(
        self,
        *,
        customer_id: str,
        price_id: str,
        user_id: str,
        days_until_due: int,
        idempotency_key: str,
    ) -> str:
        """A subscription paid by invoice from the customer balance (bank
        transfer); returns the first invoice's hosted URL."""
        ...

    def create_portal(self, customer_id: str, return_url: str) -> str:
        """A Customer Portal session; returns its URL."""
        ...

    def get_subscription(self, subscription_id: str) -> SubscriptionSnapshot: ...

    def get_charge(self, charge_id: str) -> ChargeSnapshot:
        """A charge (a dispute names only its charge: this says whose it is)."""
        ...

    def preview_change(
        self,
        subscription: SubscriptionSnapshot,
        price_id: str,
        *,
        proration_behavior: str,
        proration_date: int | None,
        quantity: int | None = None,
    ) -> ProrationPreview:
        """What ``change_price`` with the same arguments would invoice now."""
        ...

    def change_price(
        self,
        subscription: SubscriptionSnapshot,
        price_id: str,
        *,
        proration_behavior: str,
        proration_date: int | None,
        idempotency_key: str,
        quantity: int | None = None,
    ) -> SubscriptionSnapshot:
        """Move the subscription's (only) item to ``price_id``, and to
        ``quantity`` when given (an organization's seats: a per-seat price bills
        its members, a flat one a single unit); ``None`` keeps the item's."""
        ...

    def set_cancel_at_period_end(
        self, subscription_id: str, cancel: bool, *, idempotency_key: str
    ) -> SubscriptionSnapshot: ...

    def set_seat_quantity(
        self,
        subscription_id: str,
        quantity: int,
        *,
        proration_behavior: str,
        idempotency_key: str,
    ) -> SeatChange:
        """Set the quantity of the subscription's (only) item, prorated as
        ``proration_behavior`` says (``always_invoice``: the difference is
        invoiced now and its invoice named; ``create_prorations``: it waits for
        the next invoice; ``none``). The same ``idempotency_key`` again (a retry
        of the same membership change) answers the first result and charges
        nothing more; a different quantity under a used key is refused.
        ``ValueError`` for a quantity below 1; ``PaymentProviderRejected`` for a
        subscription Stripe does not know or that has ended."""
        ...

    def cancel_now(
        self, subscription_id: str, *, idempotency_key: str, credit: bool = True
    ) -> SubscriptionSnapshot:
        """End a subscription at once, crediting its unused time to the customer's
        balance (which pays their next invoices); with ``credit=False`` nothing is
        credited (a lost dispute: the money was taken back)."""
        ...

    def list_invoices(
        self, customer_id: str, limit: int, starting_after: str | None
    ) -> InvoicePage:
        """The customer's invoices, newest first."""
        ...

    def list_subscriptions(
        self, limit: int, starting_after: str | None
    ) -> SubscriptionPage:
        """One page of the account's subscriptions that are not canceled (Stripe's
        default listing), newest first."""
        ...


class WebhookVerifier(Protocol):
    """Checks a webhook's signature over the raw body, exactly as received, and
    its timestamp against the tolerance; returns the event or raises
    ``InvalidSignature`` (and nothing is stored)."""

    def verify(self, payload: bytes, signature_header: str) -> BillingEvent: ...


class BillingStore(Protocol):
    """Billing state beside the users: which user a Stripe customer belongs to,
    and which webhook events were already processed (kept until a TTL)."""

    def attach_customer(self, user: User, customer_id: str) -> User:
        """Store ``customer_id`` on the user and claim it for them, atomically and
        only if the stored user is still ``user.version``; else
        ``ConcurrentUpdate``. Returns the user as stored."""
        ...

    def owner_of(self, customer_id: str) -> str | None:
        """The id of the user a customer belongs to."""
        ...

    def was_processed(self, event_id: str) -> bool: ...

    def record_event(
        self,
        event_id: str,
        event_type: str,
        now: datetime,
        expires_at: datetime,
        user: User | None = None,
    ) -> User | None:
        """Mark the event processed and, in the same transaction, save ``user``
        (versioned, as ``UserRepository.save``). Raises ``DuplicateEvent`` if the
        event was recorded before (nothing is saved) and ``ConcurrentUpdate`` if the
        user changed since it was read."""
        ...

    def subscribed_users(self, limit: int, start: Position | None) -> UserPage:
        """One page of users whose subscription is not in a terminal state, read
        from an index (no scan); it may lag a moment behind writes."""
        ...


# -- seats (per-seat billing of organizations) -----------------------------------------


@dataclass(frozen=True, slots=True)
class SeatedSubscription:
    """An organization with a subscription that has not ended, and how many
    members it has now (the seats it should be billed for)."""

    org_id: str
    subscription_id: str
    member_count: int


@dataclass(frozen=True, slots=True)
class SeatedPage:
    items: Sequence[SeatedSubscription]
    next_position: Position | None


class OrganizationSeats(Protocol):
    """The organizations whose seats the daily reconciliation checks."""

    def seated_subscriptions(self, limit: int, start: Position | None) -> SeatedPage:
        """One page of organizations whose stored subscription is not in a
        terminal state, each with its current member count, read from an index
        (no scan); it may lag a moment behind writes."""
        ...
