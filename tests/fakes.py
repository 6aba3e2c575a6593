"""In-memory fakes of the application's ports.

Each fake honours the contract its port documents in ``core.application.ports`` (not
just the happy path), so the interactors can be tested through them without mocks.
They depend on the standard library and ``core`` only, so a benchmark can use them too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from core.application.errors import (
    ConcurrentUpdate,
    DependencyUnavailable,
    DuplicateEvent,
    EmailTaken,
    InvalidCursor,
    InvalidSignature,
    NotAuthenticated,
    PaymentProviderRejected,
    TaskExists,
    TooManyAttempts,
    UsernameTaken,
)
from core.application.ports import (
    BillingEvent,
    ChargeSnapshot,
    CheckoutSnapshot,
    Hit,
    InvoicePage,
    InvoiceSnapshot,
    Limit,
    LinkGrant,
    Position,
    ProrationPreview,
    Settlement,
    SortOrder,
    SubscriptionPage,
    SubscriptionSnapshot,
    TokenClaims,
    UserPage,
    UserSort,
)
from core.domain.billing import Interval, Plan, PlanCatalog, Price
from core.domain.session import Session
from core.domain.task import Task, TaskStatus
from core.domain.user import User

EPOCH_START = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime = EPOCH_START) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class SequentialIds:
    """``<prefix>-1``, ``<prefix>-2``, ...: unique and easy to read in a failure."""

    def __init__(self, prefix: str = "id") -> None:
        self._prefix = prefix
        self._next = 0

    def new_id(self) -> str:
        self._next += 1
        return f"{self._prefix}-{self._next}"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def _range_name(sort: UserSort) -> str:
    return "username_lower" if sort is UserSort.USERNAME else "created_at"


def _range_value(user: User, sort: UserSort) -> str:
    if sort is UserSort.USERNAME:
        return user.username.key
    # Fixed width, so that string order is time order.
    return user.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


class InMemoryUserRepository:
    """``UserRepository`` in dicts: unique keys, atomic ``add``, versioned ``save``.

    ``calls`` counts every method call by name, so tests can assert what was written.
    """

    def __init__(self) -> None:
        self._by_id: dict[str, User] = {}
        self._id_by_username: dict[str, str] = {}
        self._id_by_email: dict[str, str] = {}
        self.calls: Counter[str] = Counter()

    @property
    def writes(self) -> int:
        return self.calls["add"] + self.calls["save"] + self.calls["remove"]

    def all(self) -> list[User]:
        return list(self._by_id.values())

    def stored(self, user_id: str) -> User | None:
        """The stored user, read without counting as a call."""
        return self._by_id.get(user_id)

    def add(self, user: User) -> User:
        self.calls["add"] += 1
        if user.username.key in self._id_by_username:
            raise UsernameTaken()
        if user.email.key in self._id_by_email:
            raise EmailTaken()
        if user.id in self._by_id:
            raise ValueError(f"user id {user.id!r} is already stored")
        self._by_id[user.id] = stored = replace(user, version=1)
        self._id_by_username[user.username.key] = user.id
        self._id_by_email[user.email.key] = user.id
        return stored

    def get(self, user_id: str) -> User | None:
        self.calls["get"] += 1
        return self._by_id.get(user_id)

    def get_by_username(self, username_key: str) -> User | None:
        self.calls["get_by_username"] += 1
        user_id = self._id_by_username.get(username_key)
        return None if user_id is None else self._by_id[user_id]

    def get_by_email(self, email_key: str) -> User | None:
        self.calls["get_by_email"] += 1
        user_id = self._id_by_email.get(email_key)
        return None if user_id is None else self._by_id[user_id]

    def remove(self, user: User) -> None:
        self.calls["remove"] += 1
        stored = self._by_id.get(user.id)
        if stored is None or stored.version != user.version:
            raise ConcurrentUpdate()
        if stored.billing.customer_id or stored.billing.subscription:
            # As the adapter's condition: who pays is never deleted.
            raise ConcurrentUpdate()
        del self._by_id[user.id]
        self._id_by_username.pop(stored.username.key, None)
        self._id_by_email.pop(stored.email.key, None)

    def list_unverified(
        self, created_before: datetime, limit: int, start: Position | None
    ) -> UserPage:
        self.calls["list_unverified"] += 1
        ordered = sorted(
            (
                u
                for u in self._by_id.values()
                if not u.email_verified and u.created_at < created_before
            ),
            key=lambda u: (_range_value(u, UserSort.CREATED_AT), user_pk(u.id)),
        )
        if start is not None:
            if set(start) != {"pk", "created_at"}:
                raise InvalidCursor()
            after = (start["created_at"], start["pk"])
            ordered = [
                u
                for u in ordered
                if (_range_value(u, UserSort.CREATED_AT), user_pk(u.id)) > after
            ]
        page = ordered[:limit]
        next_position: dict[str, str] | None = None
        if len(ordered) > limit:
            last = page[-1]
            next_position = {
                "pk": user_pk(last.id),
                "created_at": _range_value(last, UserSort.CREATED_AT),
            }
        return UserPage(items=page, next_position=next_position)

    def save(self, user: User) -> User:
        self.calls["save"] += 1
        stored = self._by_id.get(user.id)
        if stored is None or stored.version != user.version:
            raise ConcurrentUpdate()
        if (stored.username.key, stored.email.key) != (
            user.username.key,
            user.email.key,
        ):
            raise ValueError("save cannot change the username or email keys")
        saved = replace(user, version=user.version + 1)
        self._by_id[user.id] = saved
        return saved

    def list_page(
        self,
        sort: UserSort,
        order: SortOrder,
        limit: int,
        start: Position | None,
    ) -> UserPage:
        self.calls["list_page"] += 1
        range_name = _range_name(sort)
        descending = order is SortOrder.DESC
        ordered = sorted(
            self._by_id.values(),
            key=lambda u: (_range_value(u, sort), user_pk(u.id)),
            reverse=descending,
        )
        if start is not None:
            if set(start) != {"pk", range_name} or not all(
                isinstance(v, str) for v in start.values()
            ):
                raise InvalidCursor()
            after = (start[range_name], start["pk"])

            def is_past(u: User) -> bool:
                here = (_range_value(u, sort), user_pk(u.id))
                return here < after if descending else here > after

            ordered = [u for u in ordered if is_past(u)]
        page = ordered[:limit]
        next_position: dict[str, str] | None = None
        if len(ordered) > limit:
            last = page[-1]
            next_position = {
                "pk": user_pk(last.id),
                range_name: _range_value(last, sort),
            }
        return UserPage(items=page, next_position=next_position)


class InMemorySessionStore:
    """``SessionStore`` in a dict. Like storage whose TTL deletion lags, it hands back
    expired sessions too: checking expiry is the reader's job.

    ``calls`` counts every method call by name.
    """

    def __init__(
        self,
        users: InMemoryUserRepository,
        limiter: InMemoryRateLimiter | None = None,
    ) -> None:
        self._users = users
        # Where a log-in's settlement goes (the DynamoDB store writes it in the
        # same transaction as the session).
        self.limiter = limiter
        self._sessions: dict[str, Session] = {}
        self.calls: Counter[str] = Counter()

    @property
    def writes(self) -> int:
        return sum(
            self.calls[name]
            for name in (
                "add",
                "extend",
                "move_to_epoch",
                "delete",
                "delete_all_for_user",
            )
        )

    def stored(self, session_id: str) -> Session | None:
        """The stored session, read without counting as a call."""
        return self._sessions.get(session_id)

    def of_user(self, user_id: str) -> list[Session]:
        return [s for s in self._sessions.values() if s.user_id == user_id]

    def add(self, session: Session, settle: Settlement | None = None) -> None:
        self.calls["add"] += 1
        if session.id in self._sessions:
            raise ValueError(f"session id {session.id!r} is already stored")
        self._sessions[session.id] = session
        if settle is not None and self.limiter is not None:
            self.limiter.settle(settle)

    def get_with_user(
        self, session_id: str, user_id: str
    ) -> tuple[Session | None, User | None]:
        self.calls["get_with_user"] += 1
        return self._sessions.get(session_id), self._users.stored(user_id)

    def extend(self, session_id: str, expires_at: datetime) -> None:
        self.calls["extend"] += 1
        stored = self._sessions.get(session_id)
        if stored is not None:
            self._sessions[session_id] = replace(stored, expires_at=expires_at)

    def move_to_epoch(self, session_id: str, epoch: int) -> None:
        self.calls["move_to_epoch"] += 1
        stored = self._sessions.get(session_id)
        if stored is not None:
            self._sessions[session_id] = replace(stored, epoch=epoch)

    def delete(self, session_id: str) -> None:
        self.calls["delete"] += 1
        self._sessions.pop(session_id, None)

    def delete_all_for_user(self, user_id: str, keep: str | None = None) -> int:
        self.calls["delete_all_for_user"] += 1
        doomed = [
            s.id
            for s in self._sessions.values()
            if s.user_id == user_id and s.id != keep
        ]
        for session_id in doomed:
            del self._sessions[session_id]
        return len(doomed)


class InMemoryRateLimiter:
    """``RateLimiter``: a counter per (limit, key, fixed window), like the DynamoDB
    adapter's. ``calls`` counts every method call by name."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.calls: Counter[str] = Counter()
        # A hit is atomic, like the conditional write it stands for.
        self._lock = threading.Lock()

    @staticmethod
    def _counter(limit: Limit, key: str, now: datetime) -> tuple[str, datetime]:
        seconds = max(1, int(limit.window.total_seconds()))
        index = int(now.timestamp()) // seconds
        ends_at = datetime.fromtimestamp((index + 1) * seconds, UTC)
        return f"{limit.name}#{index}#{key}", ends_at

    def hits(self, limit: Limit, key: str, now: datetime) -> int:
        """The count of ``key``'s current window, read without counting as a call."""
        return self.counters.get(self._counter(limit, key, now)[0], 0)

    def hit(self, limit: Limit, key: str, now: datetime) -> Hit:
        counter, ends_at = self._counter(limit, key, now)
        with self._lock:
            self.calls["hit"] += 1
            count = self.counters.get(counter, 0)
            if count >= limit.max_hits:
                seconds = max(1, math.ceil((ends_at - now).total_seconds()))
                raise TooManyAttempts(retry_after=seconds)
            self.counters[counter] = count + 1
        return Hit(limit=limit, key=key, counter=counter, window_ends_at=ends_at)

    def hit_all(
        self, keys: Sequence[tuple[Limit, str]], now: datetime
    ) -> tuple[Hit, ...]:
        """All or nothing, under one lock, like the transaction it stands for."""
        counters = [
            (limit, key, *self._counter(limit, key, now)) for limit, key in keys
        ]
        with self._lock:
            self.calls["hit_all"] += 1
            refused = [
                ends_at
                for limit, _, counter, ends_at in counters
                if self.counters.get(counter, 0) >= limit.max_hits
            ]
            if refused:
                seconds = max(1, math.ceil((max(refused) - now).total_seconds()))
                raise TooManyAttempts(retry_after=seconds)
            for _, _, counter, _ in counters:
                self.counters[counter] = self.counters.get(counter, 0) + 1
        return tuple(
            Hit(limit=limit, key=key, counter=counter, window_ends_at=ends_at)
            for limit, key, counter, ends_at in counters
        )

    def refund(self, hit: Hit) -> None:
        self.calls["refund"] += 1
        if self.counters.get(hit.counter, 0) > 0:
            self.counters[hit.counter] -= 1

    def clear(self, limit: Limit, key: str, now: datetime) -> None:
        self.calls["clear"] += 1
        self.counters.pop(self._counter(limit, key, now)[0], None)

    def settle(self, settlement: Settlement) -> None:
        """What ``InMemorySessionStore.add`` does with a log-in's settlement."""
        for hit in settlement.clear:
            self.counters.pop(hit.counter, None)
        for hit in settlement.refund:
            if self.counters.get(hit.counter, 0) > 0:
                self.counters[hit.counter] -= 1


HASH_PREFIX = "hashed:"


class FakePasswordHasher:
    """Fast and deterministic: the hash of ``p`` is ``"hashed:" + p``."""

    def __init__(self) -> None:
        self.verified: list[str] = []
        self.dummy_verified: list[str] = []

    def hash(self, password: str) -> str:
        return HASH_PREFIX + password

    def verify(self, password: str, password_hash: str) -> bool:
        self.verified.append(password)
        return password_hash == HASH_PREFIX + password

    def dummy_verify(self, password: str) -> None:
        self.dummy_verified.append(password)


class FakeTokenCodec:
    """Opaque tokens (``token-1``, ...) that map to the claims they were issued with.

    ``read`` refuses a token it never issued and one past its expiry by ``clock``, as
    a signed token would be; it never touches storage.
    """

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._claims: dict[str, TokenClaims] = {}
        self.reads = 0

    def issue(self, session: Session) -> str:
        return self.mint(
            TokenClaims(
                session_id=session.id,
                user_id=session.user_id,
                expires_at=session.expires_at,
            )
        )

    def mint(self, claims: TokenClaims) -> str:
        """A token with arbitrary claims, as if signed with the real key."""
        token = f"token-{len(self._claims) + 1}"
        self._claims[token] = claims
        return token

    def read(self, token: str) -> TokenClaims:
        self.reads += 1
        claims = self._claims.get(token)
        if claims is None or self._clock.now() >= claims.expires_at:
            raise NotAuthenticated()
        return claims


class FakeCursorCodec:
    """Opaque cursors (``cursor-1``, ...) bound to the scope they were made for.

    ``decode`` refuses any cursor it did not make (an altered one included) and a
    cursor made for another scope.
    """

    def __init__(self) -> None:
        self._issued: dict[str, tuple[str, dict[str, str]]] = {}

    def encode(self, position: Position, scope: str) -> str:
        cursor = f"cursor-{len(self._issued) + 1}"
        self._issued[cursor] = (scope, dict(position))
        return cursor

    def decode(self, cursor: str, scope: str) -> Position:
        issued = self._issued.get(cursor)
        if issued is None or issued[0] != scope:
            raise InvalidCursor()
        return dict(issued[1])


# -- email and link tokens (the email work) --------------------------------------------


@dataclass(frozen=True, slots=True)
class SentEmail:
    to: str
    template: str
    context: dict[str, str]


class RecordingMailer:
    """``Mailer`` that keeps what it was asked to send; ``fail`` makes it raise."""

    def __init__(self) -> None:
        self.sent: list[SentEmail] = []
        self.fail: Exception | None = None

    def send(self, to: str, template: str, context: Mapping[str, str]) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append(SentEmail(to, template, dict(context)))


class InMemoryOneTimeTokens:
    """``OneTimeTokens`` in a dict keyed by the token's SHA-256, as stored for real:
    single use, expiring, bound to a purpose; a failed ``consume`` changes nothing.
    """

    def __init__(self) -> None:
        self._by_hash: dict[str, tuple[str, str, datetime, int]] = {}
        self._issued = 0
        self.calls: Counter[str] = Counter()

    @staticmethod
    def _hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def stored_hashes(self) -> list[str]:
        return list(self._by_hash)

    def live(self, purpose: str, user_id: str, now: datetime) -> int:
        """How many unexpired tokens ``user_id`` holds for ``purpose``."""
        return sum(
            1
            for p, u, expires_at, _ in self._by_hash.values()
            if (p, u) == (purpose, user_id) and expires_at > now
        )

    def issue(
        self, purpose: str, user_id: str, now: datetime, ttl: timedelta, epoch: int = 0
    ) -> str:
        self.calls["issue"] += 1
        self._issued += 1
        token = f"{purpose}-{self._issued}-{secrets.token_urlsafe(8)}"
        self._by_hash[self._hash(token)] = (purpose, user_id, now + ttl, epoch)
        return token

    def consume(self, purpose: str, token: str, now: datetime) -> LinkGrant | None:
        self.calls["consume"] += 1
        key = self._hash(token)
        stored = self._by_hash.get(key)
        if stored is None or stored[0] != purpose or stored[2] <= now:
            return None
        del self._by_hash[key]
        return LinkGrant(user_id=stored[1], epoch=stored[3])


# -- tasks: the task store, the queue and the export files -----------------------------


class InMemoryTaskStore:
    """``TaskStore`` in a dict, kept as the DynamoDB store keeps it: ``claim`` runs a
    task only if it is queued, or running with its lease run out; ``finish`` writes
    only while no later attempt has claimed the task; with a ``clock``, reads treat
    a record past its ``expires_at`` as absent (without one they hand it back, and
    the reader must check).

    ``calls`` counts every method call by name.
    """

    def __init__(self, clock: FakeClock | None = None) -> None:
        self._clock = clock
        self._tasks: dict[str, Task] = {}
        self._leases: dict[str, datetime] = {}
        self.calls: Counter[str] = Counter()

    def all(self) -> list[Task]:
        return list(self._tasks.values())

    def stored(self, task_id: str) -> Task | None:
        """The stored task, expired or not, read without counting as a call."""
        return self._tasks.get(task_id)

    def lease_of(self, task_id: str) -> datetime | None:
        return self._leases.get(task_id)

    def add(self, task: Task) -> None:
        self.calls["add"] += 1
        if task.id in self._tasks:
            raise TaskExists()
        self._tasks[task.id] = task

    def get(self, task_id: str) -> Task | None:
        self.calls["get"] += 1
        task = self._tasks.get(task_id)
        if task is None or self._expired(task, None):
            return None
        return task

    def claim(self, task_id: str, now: datetime, lease: timedelta) -> Task | None:
        self.calls["claim"] += 1
        task = self._tasks.get(task_id)
        if task is None or task.is_finished or self._expired(task, now):
            return None
        if task.status is TaskStatus.RUNNING and self._leases[task_id] >= now:
            return None
        claimed = replace(
            task, status=TaskStatus.RUNNING, attempts=task.attempts + 1, updated_at=now
        )
        self._tasks[task_id] = claimed
        self._leases[task_id] = now + lease
        return claimed

    def finish(self, task: Task) -> None:
        self.calls["finish"] += 1
        stored = self._tasks.get(task.id)
        if stored is None or stored.attempts != task.attempts:
            return  # a later attempt owns the record now
        self._tasks[task.id] = replace(
            stored,
            status=task.status,
            result=task.result,
            error=task.error,
            updated_at=task.updated_at,
        )
        self._leases.pop(task.id, None)

    def _expired(self, task: Task, now: datetime | None) -> bool:
        if now is None:
            if self._clock is None:
                return False
            now = self._clock.now()
        return task.expires_at <= now


class RecordingTaskQueue:
    """``TaskQueue`` that keeps the queued tasks in order; ``fail`` makes it raise."""

    def __init__(self) -> None:
        self.queued: list[Task] = []
        self.fail: Exception | None = None

    def enqueue(self, task: Task) -> None:
        if self.fail is not None:
            raise self.fail
        self.queued.append(task)


class InMemoryExportStore:
    """``ExportStore`` in a dict. ``write`` consumes the chunks one at a time and
    records the largest, so a test can tell a stream from a file built whole;
    ``link`` is a fake URL that names the key and its lifetime. ``fail_after``
    makes ``write`` raise after that many chunks, storing nothing."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.content_types: dict[str, str] = {}
        self.chunk_sizes: list[int] = []
        self.links: list[tuple[str, timedelta]] = []
        self.fail_after: int | None = None

    def write(self, key: str, chunks: Iterable[bytes], content_type: str) -> int:
        parts: list[bytes] = []
        for n, chunk in enumerate(chunks):
            if self.fail_after is not None and n >= self.fail_after:
                raise DependencyUnavailable()
            self.chunk_sizes.append(len(chunk))
            parts.append(chunk)
        data = b"".join(parts)
        self.files[key] = data
        self.content_types[key] = content_type
        return len(data)

    def link(self, key: str, expires_in: timedelta) -> str:
        self.links.append((key, expires_in))
        seconds = int(expires_in.total_seconds())
        return f"https://exports.example/{key}?expires_in={seconds}"


# -- billing: the billing store, Stripe and its webhook signatures ---------------------


class InMemoryBillingStore:
    """``BillingStore`` over an ``InMemoryUserRepository``, kept as the DynamoDB
    store keeps it: ``attach_customer`` and ``record_event`` save the user with the
    version check of ``save`` in the same step as their claim, so a refused write
    stores nothing of either. A customer claimed by another user is refused with
    ``ConcurrentUpdate`` (its own claim again is fine: a retry after a lost reply).

    The user writes count in this store's ``calls``, not in the repository's.
    """

    def __init__(self, users: InMemoryUserRepository) -> None:
        self._users = users
        self._owners: dict[str, str] = {}
        # event id -> (type, processed at, expires at)
        self._events: dict[str, tuple[str, datetime, datetime]] = {}
        self.calls: Counter[str] = Counter()

    def recorded(self) -> list[str]:
        """The ids of the recorded events, in the order they were recorded."""
        return list(self._events)

    def event(self, event_id: str) -> tuple[str, datetime, datetime] | None:
        """A recorded event's type, processing time and expiry."""
        return self._events.get(event_id)

    def customers(self) -> dict[str, str]:
        """Every claimed customer and the user who holds it."""
        return dict(self._owners)

    def _save(self, user: User) -> User:
        try:
            return self._users.save(user)
        finally:
            self._users.calls["save"] -= 1  # this store's write, not the caller's

    def attach_customer(self, user: User, customer_id: str) -> User:
        self.calls["attach_customer"] += 1
        owner = self._owners.get(customer_id)
        if owner is not None and owner != user.id:
            raise ConcurrentUpdate()
        saved = self._save(user.with_billing(user.billing.with_customer(customer_id)))
        self._owners[customer_id] = user.id
        return saved

    def owner_of(self, customer_id: str) -> str | None:
        self.calls["owner_of"] += 1
        return self._owners.get(customer_id)

    def was_processed(self, event_id: str) -> bool:
        self.calls["was_processed"] += 1
        return event_id in self._events

    def record_event(
        self,
        event_id: str,
        event_type: str,
        now: datetime,
        expires_at: datetime,
        user: User | None = None,
    ) -> User | None:
        self.calls["record_event"] += 1
        if event_id in self._events:
            raise DuplicateEvent()
        saved = self._save(user) if user is not None else None
        self._events[event_id] = (event_type, now, expires_at)
        return saved

    def subscribed_users(self, limit: int, start: Position | None) -> UserPage:
        self.calls["subscribed_users"] += 1

        def key(u: User) -> tuple[str, str]:
            return (_range_value(u, UserSort.CREATED_AT), user_pk(u.id))

        ordered = sorted(
            (
                u
                for u in self._users.all()
                if u.billing.subscription is not None
                and not u.billing.subscription.is_terminal
            ),
            key=key,
        )
        if start is not None:
            if set(start) != {"pk", "created_at"}:
                raise InvalidCursor()
            after = (start["created_at"], start["pk"])
            ordered = [u for u in ordered if key(u) > after]
        page = ordered[:limit]
        next_position: dict[str, str] | None = None
        if len(ordered) > limit:
            last = page[-1]
            next_position = {"pk": user_pk(last.id), "created_at": key(last)[0]}
        return UserPage(items=page, next_position=next_position)


_PERIOD = {Interval.MONTH: timedelta(days=30), Interval.YEAR: timedelta(days=365)}
_ENDED = ("canceled", "incomplete_expired")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FakeCustomer:
    id: str
    user_id: str
    email: str


@dataclass(frozen=True, slots=True)
class CheckoutRequest:
    """A Checkout Session the fake was asked for, with everything it was given."""

    id: str
    url: str
    customer_id: str
    price_id: str
    user_id: str
    success_url: str
    cancel_url: str
    idempotency_key: str
    trial_days: int


@dataclass(frozen=True, slots=True)
class InvoicedRequest:
    """A subscription paid by bank transfer the fake was asked for."""

    subscription_id: str
    invoice_url: str
    customer_id: str
    price_id: str
    user_id: str
    days_until_due: int
    idempotency_key: str


class FakePaymentProvider:
    """``PaymentProvider`` in dicts, behaving as Stripe does where Strata relies on it.

    - Idempotency: a write with a key seen before (and the same parameters) answers
      what the first answered and does nothing again; the same key with other
      parameters is refused, as Stripe refuses it. ``idempotency_keys`` lists every
      key sent, in order.
    - Unknown customers, prices, subscriptions, items and invoices are refused
      (``PaymentProviderRejected``), and so is any change to an ended subscription.
    - Proration is deterministic: over the stored period ``[start, end)`` and the
      proration date ``t`` (epoch seconds, default the clock's now), the unused
      time of the old price is credited (``old * (end - t) // (end - start)``) and
      the new price charged for the same time, or for a whole new period when the
      interval changes; ``always_invoice`` invoices the net now (at least 0), other
      behaviours invoice nothing now. A trialing subscription changes for free.
      So a preview equals the change made with its ``proration_date``.
    - ``fail_with`` makes every call (or only the named methods) raise.
    - ``decline_next_payment`` makes the next change that invoices at once fail
      to be paid: as Stripe's ``pending_if_incomplete``, the subscription is left
      as it was, an open invoice is made, and the answer has ``pending_update``
      and the invoice's page as ``payment_url``.

    ``calls`` counts every port method call by name, replays included.
    """

    def __init__(self, clock: FakeClock, catalog: PlanCatalog) -> None:
        self._clock = clock
        self._catalog = catalog
        self.customers: dict[str, FakeCustomer] = {}
        self.subscriptions: dict[str, SubscriptionSnapshot] = {}
        self._periods: dict[str, tuple[datetime, datetime]] = {}
        # By customer, oldest first.
        self._invoices: dict[str, list[InvoiceSnapshot]] = {}
        self.checkouts: list[CheckoutRequest] = []
        self.invoiced: list[InvoicedRequest] = []
        self.portals: list[tuple[str, str]] = []
        self.idempotency_keys: list[str] = []
        self._replies: dict[str, tuple[tuple[object, ...], object]] = {}
        self._serial = 0
        self._fail: Exception | None = None
        self._fail_only: frozenset[str] = frozenset()
        self._decline_next = False
        self.charges: dict[str, ChargeSnapshot] = {}
        # ``credit`` of every ``cancel_now``, in order.
        self.cancel_credits: list[bool] = []
        self.calls: Counter[str] = Counter()

    # -- test controls ---------------------------------------------------------------

    def fail_with(self, error: Exception | None, *methods: str) -> None:
        """Raise ``error`` from the named methods (every method if none is named);
        ``None`` stops failing."""
        self._fail = error
        self._fail_only = frozenset(methods)

    def add_charge(
        self, customer_id: str, amount: int, *, currency: str = "usd"
    ) -> ChargeSnapshot:
        charge = ChargeSnapshot(
            id=f"ch_{self._next()}",
            customer_id=customer_id,
            amount=amount,
            amount_refunded=0,
            currency=currency,
        )
        self.charges[charge.id] = charge
        return charge

    def get_charge(self, charge_id: str) -> ChargeSnapshot:
        self._enter("get_charge")
        charge = self.charges.get(charge_id)
        if charge is None:
            raise PaymentProviderRejected(f"No such charge: {charge_id!r}")
        return charge

    def decline_next_payment(self) -> None:
        self._decline_next = True

    def reset_counts(self) -> None:
        self.calls.clear()
        self.idempotency_keys.clear()

    def add_subscription(
        self,
        customer_id: str,
        price_id: str,
        *,
        status: str = "active",
        user_id: str | None = None,
        trial_end: datetime | None = None,
        period_start: datetime | None = None,
    ) -> SubscriptionSnapshot:
        """A subscription made at Stripe (as a completed checkout makes it)."""
        if customer_id not in self.customers:
            raise ValueError(f"no customer {customer_id!r}")
        _, price = self._price(price_id)
        start = period_start or self._clock.now()
        end = start + _PERIOD[price.interval]
        n = self._next()
        snapshot = SubscriptionSnapshot(
            id=f"sub_{n}",
            customer_id=customer_id,
            status=status,
            price_id=price_id,
            item_id=f"si_{n}",
            currency=price.currency,
            current_period_end=end,
            cancel_at_period_end=False,
            trial_end=trial_end,
            user_id=user_id,
        )
        self.subscriptions[snapshot.id] = snapshot
        self._periods[snapshot.id] = (start, end)
        return snapshot

    def update_subscription(
        self, subscription_id: str, **changes: Any
    ) -> SubscriptionSnapshot:
        """A change made at Stripe by someone else (a renewal, a failed payment,
        the Customer Portal)."""
        updated = replace(self.subscriptions[subscription_id], **changes)
        self.subscriptions[subscription_id] = updated
        return updated

    def forget_subscription(self, subscription_id: str) -> None:
        del self.subscriptions[subscription_id]

    def complete_checkout(
        self, request: CheckoutRequest
    ) -> tuple[CheckoutSnapshot, SubscriptionSnapshot]:
        """The customer paid: the session's subscription exists, trialing if the
        session gave a trial."""
        trial_end = (
            self._clock.now() + timedelta(days=request.trial_days)
            if request.trial_days
            else None
        )
        subscription = self.add_subscription(
            request.customer_id,
            request.price_id,
            status="trialing" if trial_end else "active",
            user_id=request.user_id,
            trial_end=trial_end,
        )
        checkout = CheckoutSnapshot(
            id=request.id,
            customer_id=request.customer_id,
            subscription_id=subscription.id,
            user_id=request.user_id,
        )
        return checkout, subscription

    def add_invoice(
        self,
        customer_id: str,
        amount: int,
        *,
        status: str = "paid",
        currency: str = "usd",
        subscription_id: str | None = None,
    ) -> InvoiceSnapshot:
        n = self._next()
        invoice = InvoiceSnapshot(
            id=f"in_{n}",
            customer_id=customer_id,
            status=status,
            amount_due=amount,
            amount_paid=amount if status == "paid" else 0,
            currency=currency,
            created=self._clock.now(),
            number=f"INV-{n:04d}",
            hosted_invoice_url=f"https://invoice.stripe.test/i/in_{n}",
            invoice_pdf=f"https://invoice.stripe.test/i/in_{n}/pdf",
            subscription_id=subscription_id,
        )
        self._invoices.setdefault(customer_id, []).append(invoice)
        return invoice

    def invoices_of(self, customer_id: str) -> list[InvoiceSnapshot]:
        """The customer's invoices, oldest first, read without counting."""
        return list(self._invoices.get(customer_id, []))

    def period_of(self, subscription_id: str) -> tuple[datetime, datetime]:
        return self._periods[subscription_id]

    # -- the port --------------------------------------------------------------------

    def create_customer(self, user_id: str, email: str, *, idempotency_key: str) -> str:
        self._enter("create_customer")

        def create() -> str:
            customer = FakeCustomer(f"cus_{self._next()}", user_id, email)
            self.customers[customer.id] = customer
            return customer.id

        return self._once(idempotency_key, ("create_customer", user_id, email), create)

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
        self._enter("create_checkout")
        params = (
            "create_checkout",
            customer_id,
            price_id,
            user_id,
            success_url,
            cancel_url,
            trial_days,
        )

        def create() -> str:
            self._customer(customer_id)
            self._price(price_id)
            if trial_days < 0:
                raise PaymentProviderRejected("trial_period_days must be positive")
            session_id = f"cs_{self._next()}"
            request = CheckoutRequest(
                id=session_id,
                url=f"https://checkout.stripe.test/c/pay/{session_id}",
                customer_id=customer_id,
                price_id=price_id,
                user_id=user_id,
                success_url=success_url,
                cancel_url=cancel_url,
                idempotency_key=idempotency_key,
                trial_days=trial_days,
            )
            self.checkouts.append(request)
            return request.url

        return self._once(idempotency_key, params, create)

    def create_invoiced_subscription(
        self,
        *,
        customer_id: str,
        price_id: str,
        user_id: str,
        days_until_due: int,
        idempotency_key: str,
    ) -> str:
        self._enter("create_invoiced_subscription")
        params = (
            "create_invoiced_subscription",
            customer_id,
            price_id,
            user_id,
            days_until_due,
        )

        def create() -> str:
            self._customer(customer_id)
            _, price = self._price(price_id)
            subscription = self.add_subscription(
                customer_id, price_id, status="active", user_id=user_id
            )
            invoice = self.add_invoice(
                customer_id,
                price.unit_amount,
                status="open",
                currency=price.currency,
                subscription_id=subscription.id,
            )
            assert invoice.hosted_invoice_url is not None
            self.invoiced.append(
                InvoicedRequest(
                    subscription_id=subscription.id,
                    invoice_url=invoice.hosted_invoice_url,
                    customer_id=customer_id,
                    price_id=price_id,
                    user_id=user_id,
                    days_until_due=days_until_due,
                    idempotency_key=idempotency_key,
                )
            )
            return invoice.hosted_invoice_url

        return self._once(idempotency_key, params, create)

    def create_portal(self, customer_id: str, return_url: str) -> str:
        self._enter("create_portal")
        self._customer(customer_id)
        self.portals.append((customer_id, return_url))
        return f"https://billing.stripe.test/p/session/bps_{self._next()}"

    def get_subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        self._enter("get_subscription")
        return self._subscription(subscription_id)

    def preview_change(
        self,
        subscription: SubscriptionSnapshot,
        price_id: str,
        *,
        proration_behavior: str,
        proration_date: int | None,
    ) -> ProrationPreview:
        self._enter("preview_change")
        stored = self._changeable(subscription)
        amount, _, t = self._proration(
            stored, price_id, proration_behavior, proration_date
        )
        return ProrationPreview(
            amount_due=amount, currency=stored.currency, proration_date=t
        )

    def change_price(
        self,
        subscription: SubscriptionSnapshot,
        price_id: str,
        *,
        proration_behavior: str,
        proration_date: int | None,
        idempotency_key: str,
    ) -> SubscriptionSnapshot:
        self._enter("change_price")
        params = (
            "change_price",
            subscription.id,
            subscription.item_id,
            price_id,
            proration_behavior,
            proration_date,
        )

        def change() -> SubscriptionSnapshot:
            stored = self._changeable(subscription)
            amount, new_period, _ = self._proration(
                stored, price_id, proration_behavior, proration_date
            )
            if (
                self._decline_next
                and amount > 0
                and proration_behavior == "always_invoice"
            ):
                self._decline_next = False
                invoice = self.add_invoice(
                    stored.customer_id,
                    amount,
                    status="open",
                    currency=stored.currency,
                    subscription_id=stored.id,
                )
                return replace(
                    stored,
                    pending_update=True,
                    payment_url=invoice.hosted_invoice_url,
                )
            changes: dict[str, Any] = {"price_id": price_id}
            if new_period is not None:
                self._periods[stored.id] = new_period
                changes["current_period_end"] = new_period[1]
            if amount > 0:
                self.add_invoice(
                    stored.customer_id,
                    amount,
                    currency=stored.currency,
                    subscription_id=stored.id,
                )
            return self.update_subscription(stored.id, **changes)

        return self._once(idempotency_key, params, change)

    def set_cancel_at_period_end(
        self, subscription_id: str, cancel: bool, *, idempotency_key: str
    ) -> SubscriptionSnapshot:
        self._enter("set_cancel_at_period_end")

        def update() -> SubscriptionSnapshot:
            stored = self._subscription(subscription_id)
            if stored.status in _ENDED:
                raise PaymentProviderRejected("a canceled subscription cannot change")
            return self.update_subscription(
                subscription_id, cancel_at_period_end=cancel
            )

        params = ("set_cancel_at_period_end", subscription_id, cancel)
        return self._once(idempotency_key, params, update)

    def cancel_now(
        self, subscription_id: str, *, idempotency_key: str, credit: bool = True
    ) -> SubscriptionSnapshot:
        self._enter("cancel_now")
        self.cancel_credits.append(credit)

        def end() -> SubscriptionSnapshot:
            stored = self._subscription(subscription_id)
            if stored.status in _ENDED:
                raise PaymentProviderRejected("the subscription is already canceled")
            return self.update_subscription(subscription_id, status="canceled")

        return self._once(idempotency_key, ("cancel_now", subscription_id), end)

    def list_invoices(
        self, customer_id: str, limit: int, starting_after: str | None
    ) -> InvoicePage:
        self._enter("list_invoices")
        self._customer(customer_id)
        if not 1 <= limit <= 100:
            raise PaymentProviderRejected("limit must be between 1 and 100")
        newest_first = list(reversed(self._invoices.get(customer_id, [])))
        if starting_after is not None:
            ids = [invoice.id for invoice in newest_first]
            if starting_after not in ids:
                raise PaymentProviderRejected(f"No such invoice: {starting_after!r}")
            newest_first = newest_first[ids.index(starting_after) + 1 :]
        page = newest_first[:limit]
        more = len(newest_first) > limit
        return InvoicePage(items=page, next_after=page[-1].id if more else None)

    def list_subscriptions(
        self, limit: int, starting_after: str | None
    ) -> SubscriptionPage:
        self._enter("list_subscriptions")
        newest_first = [
            s for s in reversed(self.subscriptions.values()) if s.status != "canceled"
        ]
        if starting_after is not None:
            ids = [s.id for s in newest_first]
            if starting_after not in ids:
                raise PaymentProviderRejected(
                    f"No such subscription: {starting_after!r}"
                )
            newest_first = newest_first[ids.index(starting_after) + 1 :]
        page = newest_first[:limit]
        more = len(newest_first) > limit
        return SubscriptionPage(items=page, next_after=page[-1].id if more else None)

    # -- inside ----------------------------------------------------------------------

    def _next(self) -> int:
        self._serial += 1
        return self._serial

    def _enter(self, method: str) -> None:
        self.calls[method] += 1
        if self._fail is not None and (
            not self._fail_only or method in self._fail_only
        ):
            raise self._fail

    def _once(self, key: str, params: tuple[object, ...], make: Callable[[], T]) -> T:
        self.idempotency_keys.append(key)
        seen = self._replies.get(key)
        if seen is not None:
            if seen[0] != params:
                raise PaymentProviderRejected(
                    "Keys for idempotent requests can only be used with the same "
                    "parameters they were first used with"
                )
            return cast(T, seen[1])
        result = make()
        self._replies[key] = (params, result)
        return result

    def _customer(self, customer_id: str) -> FakeCustomer:
        customer = self.customers.get(customer_id)
        if customer is None:
            raise PaymentProviderRejected(f"No such customer: {customer_id!r}")
        return customer

    def _price(self, price_id: str) -> tuple[Plan, Price]:
        found = self._catalog.by_price(price_id)
        if found is None:
            raise PaymentProviderRejected(f"No such price: {price_id!r}")
        return found

    def _subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        stored = self.subscriptions.get(subscription_id)
        if stored is None:
            raise PaymentProviderRejected(f"No such subscription: {subscription_id!r}")
        return stored

    def _changeable(self, subscription: SubscriptionSnapshot) -> SubscriptionSnapshot:
        stored = self._subscription(subscription.id)
        if stored.status in _ENDED:
            raise PaymentProviderRejected("a canceled subscription cannot change")
        if subscription.item_id != stored.item_id:
            raise PaymentProviderRejected(f"No such item: {subscription.item_id!r}")
        if subscription.customer_id != stored.customer_id:
            raise PaymentProviderRejected("the subscription is another customer's")
        return stored

    def _proration(
        self,
        stored: SubscriptionSnapshot,
        price_id: str,
        behavior: str,
        proration_date: int | None,
    ) -> tuple[int, tuple[datetime, datetime] | None, int]:
        """The amount invoiced now, the new period if the cycle restarts, and the
        proration date used."""
        if behavior not in ("always_invoice", "create_prorations", "none"):
            raise PaymentProviderRejected(f"Invalid proration_behavior: {behavior!r}")
        _, old = self._price(stored.price_id)
        _, new = self._price(price_id)
        if new.currency != stored.currency:
            raise PaymentProviderRejected("a subscription cannot change currency")
        start, end = self._periods[stored.id]
        t = (
            int(self._clock.now().timestamp())
            if proration_date is None
            else proration_date
        )
        first, last = int(start.timestamp()), int(end.timestamp())
        if not first <= t <= last:
            raise PaymentProviderRejected(
                "The proration_date must be within the current period"
            )
        new_period = None
        if new.interval is not old.interval:
            moment = datetime.fromtimestamp(t, UTC)
            new_period = (moment, moment + _PERIOD[new.interval])
        if stored.status == "trialing" or behavior != "always_invoice":
            return 0, new_period, t
        unused = old.unit_amount * (last - t) // (last - first)
        if new_period is None:
            charge = new.unit_amount * (last - t) // (last - first)
        else:
            charge = new.unit_amount
        return max(charge - unused, 0), new_period, t


class FakeWebhookVerifier:
    """``WebhookVerifier`` for the events ``sign`` made: it hands back the event a
    payload was signed for, and refuses (``InvalidSignature``) a signature that is
    not the one made over exactly these bytes, or a payload it never signed."""

    def __init__(self, secret: str = "whsec_test") -> None:
        self._secret = secret.encode()
        self._events: dict[bytes, BillingEvent] = {}
        self.calls: Counter[str] = Counter()

    def sign(self, event: BillingEvent) -> tuple[bytes, str]:
        """The raw body and ``Stripe-Signature`` of one delivery of ``event``
        (every delivery of one event has the same body, as at Stripe)."""
        digest = hashlib.sha256(repr(event).encode()).hexdigest()[:16]
        payload = json.dumps(
            {"id": event.id, "type": event.type, "digest": digest}, sort_keys=True
        ).encode()
        self._events[payload] = event
        return payload, self._signature(payload)

    def _signature(self, payload: bytes) -> str:
        mac = hmac.new(self._secret, payload, hashlib.sha256).hexdigest()
        return f"t=1,v1={mac}"

    def verify(self, payload: bytes, signature_header: str) -> BillingEvent:
        self.calls["verify"] += 1
        if not hmac.compare_digest(
            signature_header.encode(), self._signature(bytes(payload)).encode()
        ):
            raise InvalidSignature()
        event = self._events.get(bytes(payload))
        if event is None:
            raise InvalidSignature("not a payload this verifier signed")
        return event


def storage_fakes(clock: FakeClock | None = None) -> dict[str, Any]:
    """The composition root's AWS-backed ports (DynamoDB, SQS, S3, SES), each as its
    in-memory fake, by the ``Container`` field it fills; with a ``clock`` the task
    store hides records past their expiry, as DynamoDB's reads do."""
    users = InMemoryUserRepository()
    attempts = InMemoryRateLimiter()
    return {
        "users": users,
        "sessions": InMemorySessionStore(users, attempts),
        "attempts": attempts,
        "tasks": InMemoryTaskStore(clock),
        "queue": RecordingTaskQueue(),
        "exports": InMemoryExportStore(),
        "mailer": RecordingMailer(),
        "link_tokens": InMemoryOneTimeTokens(),
        "billing": InMemoryBillingStore(users),
    }
