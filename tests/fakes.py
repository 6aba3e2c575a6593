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
from core.application.ports import (
    Hit,
    Limit,
    LinkGrant,
    Position,
    Settlement,
    SortOrder,
    TokenClaims,
    UserPage,
    UserSort,
    UserSummary,
    UserSummaryPage,
)
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
