"""In-memory fakes of the application's ports.

Each fake honours the contract its port documents in ``core.application.ports`` (not
just the happy path), so the interactors can be tested through them without mocks.
They depend on the standard library and ``core`` only, so a benchmark can use them too.
Stripe has no fake here: tests use Strata's adapter over the emulator in-process
(``tests.stripe_inprocess``), the one model of Stripe.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from core.application.errors import (
    ConcurrentUpdate,
    DependencyUnavailable,
    DuplicateEvent,
    EmailTaken,
    InvalidCursor,
    NotAuthenticated,
    TaskExists,
    TooManyAttempts,
    UsernameTaken,
)
from core.application.org_ports import (
    AuditPage,
    InvitationPage,
    MembershipPage,
    MyOrganization,
    MyOrganizationPage,
)
from core.application.ports import (
    Hit,
    Limit,
    LinkGrant,
    Position,
    SeatedPage,
    SeatedSubscription,
    Settlement,
    SortOrder,
    TokenClaims,
    UserPage,
    UserSort,
    UserSummary,
    UserSummaryPage,
)
from core.domain.billing import Billing
from core.domain.organization import (
    AlreadyMember,
    AuditEntry,
    Invitation,
    InvitationInvalid,
    InvitationStatus,
    LastOwner,
    MemberNotFound,
    Membership,
    Organization,
    OrganizationNotFound,
    OrgRole,
)
from core.domain.seats import SeatsExhausted
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
    ) -> UserSummaryPage:
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
        # What the listing indexes carry: no password hash, no billing.
        return UserSummaryPage(
            items=[UserSummary.of(u) for u in page], next_position=next_position
        )


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


# -- billing: the billing store (Stripe is the emulator: tests/stripe_inprocess.py) ----


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


def storage_fakes(clock: FakeClock | None = None) -> dict[str, Any]:
    """The composition root's AWS-backed ports (DynamoDB, SQS, S3, SES), each as its
    in-memory fake, by the ``Container`` field it fills; with a ``clock`` the task
    store hides records past their expiry, as DynamoDB's reads do."""
    users = InMemoryUserRepository()
    attempts = InMemoryRateLimiter()
    billing = InMemoryBillingStore(users)
    orgs, invitations, audit = org_fakes()
    org_billing = InMemoryOrgBillingStore(orgs, billing)
    return {
        "users": users,
        "sessions": InMemorySessionStore(users, attempts),
        "attempts": attempts,
        "tasks": InMemoryTaskStore(clock),
        "queue": RecordingTaskQueue(),
        "exports": InMemoryExportStore(),
        "mailer": RecordingMailer(),
        "link_tokens": InMemoryOneTimeTokens(),
        "billing": billing,
        "orgs": orgs,
        "invitations": invitations,
        "audit": audit,
        "org_billing": org_billing,
        "org_seats": org_billing,
    }


# -- organizations: orgs and memberships, invitations, audit logs --------------------


def _page_after(
    keys: Sequence[str],
    start: Position | None,
    limit: int,
    name: str,
    *,
    descending: bool = False,
) -> tuple[list[str], dict[str, str] | None]:
    """``limit`` of the sorted ``keys`` after ``start`` (a position ``{name: key}``)
    and the position after the last one taken, if more follow."""
    after = None
    if start is not None:
        if set(start) != {name}:
            raise InvalidCursor()
        after = start[name]
    ordered = [
        k
        for k in sorted(keys, reverse=descending)
        if after is None or (k < after if descending else k > after)
    ]
    page = ordered[:limit]
    more = len(ordered) > limit
    return page, ({name: page[-1]} if more else None)


class InMemoryAuditLog:
    """``AuditLog`` in a dict: append-only (an id twice is refused), newest first,
    expired entries skipped."""

    def __init__(self) -> None:
        self._entries: dict[str, AuditEntry] = {}
        self.calls: Counter[str] = Counter()

    def entries(self, log: str) -> list[AuditEntry]:
        """Every stored entry of ``log``, oldest first, without counting a call."""
        return sorted(
            (e for e in self._entries.values() if e.log == log),
            key=lambda e: (e.at, e.id),
        )

    def append(self, entry: AuditEntry) -> None:
        self.calls["append"] += 1
        self._record(entry)

    def _record(self, entry: AuditEntry) -> None:
        if entry.id in self._entries:
            raise ConcurrentUpdate()
        self._entries[entry.id] = entry

    def list(
        self, log: str, now: datetime, limit: int, start: Position | None
    ) -> AuditPage:
        self.calls["list"] += 1
        live = {
            f"{e.at.astimezone(UTC).isoformat()}#{e.id}": e
            for e in self._entries.values()
            if e.log == log and e.expires_at > now
        }
        keys, next_position = _page_after(
            list(live), start, limit, "audit", descending=True
        )
        return AuditPage(items=[live[k] for k in keys], next_position=next_position)


class InMemoryInvitationStore:
    """``InvitationStore`` in a dict keyed by (organization, address key); tokens
    stored as their SHA-256."""

    def __init__(self, audit: InMemoryAuditLog) -> None:
        self._audit = audit
        self._items: dict[tuple[str, str], Invitation] = {}
        self.calls: Counter[str] = Counter()

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def stored(self) -> list[Invitation]:
        return list(self._items.values())

    def put(self, invitation: Invitation, audit: AuditEntry) -> None:
        self.calls["put"] += 1
        self._audit._record(audit)
        self._items[(invitation.org_id, invitation.email.key)] = invitation

    def issue_token(self, invitation: Invitation) -> str | None:
        self.calls["issue_token"] += 1
        key = (invitation.org_id, invitation.email.key)
        stored = self._items.get(key)
        if (
            stored is None
            or stored.id != invitation.id
            or stored.status is not InvitationStatus.PENDING
        ):
            return None
        token = secrets.token_urlsafe(16)
        self._items[key] = replace(stored, token_hash=self.hash(token))
        return token

    def get(self, org_id: str, email_key: str) -> Invitation | None:
        return self._items.get((org_id, email_key))

    def find(self, token: str) -> Invitation | None:
        self.calls["find"] += 1
        wanted = self.hash(token)
        for invitation in self._items.values():
            if invitation.token_hash == wanted:
                return invitation
        return None

    def list_pending(
        self, org_id: str, now: datetime, limit: int, start: Position | None
    ) -> InvitationPage:
        pending = {
            email: i
            for (org, email), i in self._items.items()
            if org == org_id
            and i.status is InvitationStatus.PENDING
            and not i.is_expired(now)
        }
        keys, next_position = _page_after(list(pending), start, limit, "email")
        return InvitationPage(
            items=[pending[k] for k in keys], next_position=next_position
        )

    def revoke(self, invitation: Invitation, audit: AuditEntry) -> None:
        self.calls["revoke"] += 1
        key = (invitation.org_id, invitation.email.key)
        stored = self._items.get(key)
        if (
            stored is None
            or stored.id != invitation.id
            or stored.status is not InvitationStatus.PENDING
        ):
            raise InvitationInvalid()
        self._audit._record(audit)
        del self._items[key]

    def drop_org(self, org_id: str) -> None:
        for key in [k for k in self._items if k[0] == org_id]:
            del self._items[key]

    def consume(self, invitation: Invitation, user_id: str, now: datetime) -> None:
        """What ``join`` does to the invitation: checks, then marks it accepted."""
        key = (invitation.org_id, invitation.email.key)
        stored = self._items.get(key)
        if (
            stored is None
            or stored.id != invitation.id
            or stored.token_hash != invitation.token_hash
        ):
            raise InvitationInvalid()
        stored.check_usable(now)

    def mark_accepted(self, invitation: Invitation, user_id: str) -> None:
        key = (invitation.org_id, invitation.email.key)
        self._items[key] = replace(
            self._items[key], status=InvitationStatus.ACCEPTED, accepted_by=user_id
        )


class InMemoryOrganizationStore:
    """``OrganizationStore`` in dicts, with the counters and conditions of the
    DynamoDB store: every change and its audit entry happen together or not at
    all. A lock stands for the transaction: one change at a time."""

    def __init__(
        self, invitations: InMemoryInvitationStore, audit: InMemoryAuditLog
    ) -> None:
        self._invitations = invitations
        self._audit = audit
        self._orgs: dict[str, Organization] = {}
        self._members: dict[tuple[str, str], Membership] = {}
        # An organization's seat hold (``OrgBillingStore.hold_seats``): the
        # plan, its seats and until when, beside the organization as on its item.
        self.seat_holds: dict[str, tuple[str, int, datetime]] = {}
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def stored(self, org_id: str) -> Organization | None:
        return self._orgs.get(org_id)

    def _refusal(self, org: Organization, now: datetime) -> SeatsExhausted | None:
        """Why a join may not take a seat, if it may not: the limit, or a hold
        not past its time (the hold named first: it is never above the limit
        when taken)."""
        wanted = org.seats_used + 1
        hold = self.seat_holds.get(org.id)
        if hold is not None and hold[2] >= now and org.seats_used >= hold[1]:
            return SeatsExhausted(hold[0], hold[1], wanted)
        if org.seat_limit is not None and org.seats_used >= org.seat_limit:
            return SeatsExhausted(org.plan_key, org.seat_limit, wanted)
        return None

    def set_seat_limit(self, org_id: str, limit: int | None) -> None:
        """What a plan change does to the limit (not a port method yet)."""
        self._orgs[org_id] = replace(self._orgs[org_id], seat_limit=limit)

    def set_billing(self, org_id: str, billing: Billing) -> None:
        """What a checkout's webhook does to the organization (not a port method
        yet)."""
        self._orgs[org_id] = replace(self._orgs[org_id], billing=billing)

    def members_of(self, org_id: str) -> list[Membership]:
        return [m for (org, _), m in self._members.items() if org == org_id]

    def create(
        self, organization: Organization, owner: Membership, audit: AuditEntry
    ) -> Organization:
        self.calls["create"] += 1
        with self._lock:
            if organization.id in self._orgs:
                raise ConcurrentUpdate()
            stored = replace(organization, seats_used=1, owners_count=1, version=1)
            self._audit._record(audit)
            self._orgs[organization.id] = stored
            self._members[(organization.id, owner.user_id)] = owner
            return stored

    def get(self, org_id: str) -> Organization | None:
        self.calls["get"] += 1
        return self._orgs.get(org_id)

    def get_with_membership(
        self, org_id: str, user_id: str
    ) -> tuple[Organization | None, Membership | None]:
        self.calls["get_with_membership"] += 1
        return self._orgs.get(org_id), self._members.get((org_id, user_id))

    def list_for_user(
        self, user_id: str, limit: int, start: Position | None
    ) -> MyOrganizationPage:
        mine = {
            org: m
            for (org, user), m in self._members.items()
            if user == user_id and org in self._orgs
        }
        keys, next_position = _page_after(list(mine), start, limit, "org")
        return MyOrganizationPage(
            items=[MyOrganization(self._orgs[k], mine[k]) for k in keys],
            next_position=next_position,
        )

    def list_members(
        self, org_id: str, limit: int, start: Position | None
    ) -> MembershipPage:
        members = {m.user_id: m for m in self.members_of(org_id)}
        keys, next_position = _page_after(list(members), start, limit, "user")
        return MembershipPage(
            items=[members[k] for k in keys], next_position=next_position
        )

    def join(
        self,
        invitation: Invitation,
        membership: Membership,
        audit: AuditEntry,
        now: datetime,
    ) -> Organization:
        self.calls["join"] += 1
        with self._lock:
            self._invitations.consume(invitation, membership.user_id, now)
            org = self._orgs.get(membership.org_id)
            if org is None:
                raise OrganizationNotFound()
            if (membership.org_id, membership.user_id) in self._members:
                raise AlreadyMember()
            refusal = self._refusal(org, now)
            if refusal is not None:
                raise refusal
            owners = 1 if membership.role is OrgRole.OWNER else 0
            stored = replace(
                org,
                seats_used=org.seats_used + 1,
                owners_count=org.owners_count + owners,
                version=org.version + 1,
            )
            self._audit._record(audit)
            self._invitations.mark_accepted(invitation, membership.user_id)
            self._members[(membership.org_id, membership.user_id)] = membership
            self._orgs[org.id] = stored
            return stored

    def _current(self, membership: Membership) -> Organization:
        org = self._orgs.get(membership.org_id)
        stored = self._members.get((membership.org_id, membership.user_id))
        if org is None or stored is None:
            raise MemberNotFound()
        if stored.role is not membership.role:
            raise ConcurrentUpdate()
        return org

    def change_role(
        self, membership: Membership, role: OrgRole, audit: AuditEntry
    ) -> Membership:
        self.calls["change_role"] += 1
        with self._lock:
            org = self._current(membership)
            delta = (role is OrgRole.OWNER) - (membership.role is OrgRole.OWNER)
            if delta < 0 and org.owners_count <= 1:
                raise LastOwner()
            self._audit._record(audit)
            changed = membership.with_role(role)
            self._members[(membership.org_id, membership.user_id)] = changed
            self._orgs[org.id] = replace(
                org, owners_count=org.owners_count + delta, version=org.version + 1
            )
            return changed

    def remove(self, membership: Membership, audit: AuditEntry) -> None:
        self.calls["remove"] += 1
        with self._lock:
            org = self._current(membership)
            owner = membership.role is OrgRole.OWNER
            if owner and org.owners_count <= 1:
                raise LastOwner()
            self._audit._record(audit)
            del self._members[(membership.org_id, membership.user_id)]
            self._orgs[org.id] = replace(
                org,
                seats_used=org.seats_used - 1,
                owners_count=org.owners_count - owner,
                version=org.version + 1,
            )

    def transfer_ownership(
        self, current: Membership, new_owner: Membership, audit: AuditEntry
    ) -> None:
        self.calls["transfer_ownership"] += 1
        with self._lock:
            self._current(current)
            org = self._current(new_owner)
            self._audit._record(audit)
            self._members[(org.id, new_owner.user_id)] = new_owner.with_role(
                OrgRole.OWNER
            )
            self._members[(org.id, current.user_id)] = current.with_role(OrgRole.ADMIN)
            gained = new_owner.role is not OrgRole.OWNER
            self._orgs[org.id] = replace(
                org, owners_count=org.owners_count + gained, version=org.version + 1
            )

    def rename(self, organization: Organization, audit: AuditEntry) -> Organization:
        self.calls["rename"] += 1
        with self._lock:
            stored = self._orgs.get(organization.id)
            if stored is None or stored.version != organization.version:
                raise ConcurrentUpdate()
            self._audit._record(audit)
            saved = replace(organization, version=organization.version + 1)
            self._orgs[organization.id] = saved
            return saved

    def delete(self, organization: Organization, audit: AuditEntry) -> None:
        self.calls["delete"] += 1
        with self._lock:
            if organization.id not in self._orgs:
                raise OrganizationNotFound()
            self._audit._record(audit)
            del self._orgs[organization.id]
            self.seat_holds.pop(organization.id, None)
            for key in [k for k in self._members if k[0] == organization.id]:
                del self._members[key]
            self._invitations.drop_org(organization.id)


class InMemoryOrgBillingStore:
    """``OrgBillingStore`` over an ``InMemoryOrganizationStore`` (the organization
    item) and an ``InMemoryBillingStore`` (the processed events, shared with the
    persons' webhooks as the DynamoDB stores share the events table). Every write
    checks the organization's version, as the DynamoDB store's condition does."""

    def __init__(
        self, orgs: InMemoryOrganizationStore, billing: InMemoryBillingStore
    ) -> None:
        self._orgs = orgs
        self._billing = billing
        self._claims: dict[str, str] = {}
        self.calls: Counter[str] = Counter()

    def _write(self, org: Organization) -> Organization:
        stored = self._orgs._orgs.get(org.id)
        if stored is None:
            raise OrganizationNotFound()
        if stored.version != org.version:
            raise ConcurrentUpdate()
        saved = replace(
            stored,
            billing=org.billing,
            plan_key=org.plan_key,
            seat_limit=org.seat_limit,
            version=stored.version + 1,
        )
        self._orgs._orgs[org.id] = saved
        return saved

    def attach_customer(self, org: Organization, customer_id: str) -> Organization:
        self.calls["attach_customer"] += 1
        with self._orgs._lock:
            owner = self._claims.get(customer_id)
            if owner is not None and owner != org.id:
                raise ConcurrentUpdate()
            saved = self._write(
                replace(org, billing=org.billing.with_customer(customer_id))
            )
            self._claims[customer_id] = org.id
            return saved

    def org_of_customer(self, customer_id: str) -> str | None:
        self.calls["org_of_customer"] += 1
        return self._claims.get(customer_id)

    def save_billing(
        self,
        org: Organization,
        audit: AuditEntry | None = None,
        release_hold: bool = False,
    ) -> Organization:
        self.calls["save_billing"] += 1
        with self._orgs._lock:
            # All or nothing, as the transaction: the entry's id first.
            if audit is not None and audit.id in self._orgs._audit._entries:
                raise ConcurrentUpdate()
            saved = self._write(org)
            if release_hold:
                self._orgs.seat_holds.pop(org.id, None)
            if audit is not None:
                self._orgs._audit._record(audit)
            return saved

    def hold_seats(
        self, org_id: str, plan_key: str, limit: int, until: datetime
    ) -> None:
        self.calls["hold_seats"] += 1
        with self._orgs._lock:
            stored = self._orgs._orgs.get(org_id)
            if stored is None:
                raise OrganizationNotFound()
            if stored.seats_used > limit:
                raise SeatsExhausted(plan_key, limit, stored.seats_used)
            self._orgs.seat_holds[org_id] = (plan_key, limit, until)

    def release_seat_hold(self, org_id: str, limit: int) -> None:
        self.calls["release_seat_hold"] += 1
        with self._orgs._lock:
            hold = self._orgs.seat_holds.get(org_id)
            if hold is not None and hold[1] == limit:
                del self._orgs.seat_holds[org_id]

    def record_event(
        self,
        event_id: str,
        event_type: str,
        now: datetime,
        expires_at: datetime,
        org: Organization | None = None,
        audit: AuditEntry | None = None,
    ) -> None:
        self.calls["record_event"] += 1
        with self._orgs._lock:
            if self._billing.event(event_id) is not None:
                raise DuplicateEvent()
            if org is not None:
                self._write(org)
            if audit is not None:
                self._orgs._audit._record(audit)
            self._billing._events[event_id] = (event_type, now, expires_at)

    def seated_subscriptions(self, limit: int, start: Position | None) -> SeatedPage:
        """``OrganizationSeats``: the organizations whose subscription has not
        ended, by id, as the sparse index holds them."""
        self.calls["seated_subscriptions"] += 1
        seated = {
            org.id: org
            for org in self._orgs._orgs.values()
            if org.billing.subscription is not None
            and not org.billing.subscription.is_terminal
        }
        keys, next_position = _page_after(list(seated), start, limit, "org")
        return SeatedPage(
            items=[
                SeatedSubscription(
                    k,
                    seated[k].billing.subscription.id,  # type: ignore[union-attr]
                    seated[k].seats_used,
                )
                for k in keys
            ],
            next_position=next_position,
        )


def org_fakes() -> tuple[
    InMemoryOrganizationStore, InMemoryInvitationStore, InMemoryAuditLog
]:
    """The three organization stores, sharing their state as the table does."""
    audit = InMemoryAuditLog()
    invitations = InMemoryInvitationStore(audit)
    return InMemoryOrganizationStore(invitations, audit), invitations, audit
