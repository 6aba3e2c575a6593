from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.application.errors import (
    AccountInactive,
    AlreadyAuthenticated,
    InvalidCredentials,
)
from core.application.limits import LoginPolicy
from core.application.ports import (
    Clock,
    IdGenerator,
    PasswordHasher,
    RateLimiter,
    SessionStore,
    Settlement,
    TokenCodec,
    UserRepository,
)
from core.domain.errors import DomainError
from core.domain.session import Session
from core.domain.user import User, Username, username_key


@dataclass(frozen=True, slots=True)
class LoggedIn:
    session: Session
    token: str


@dataclass(frozen=True, slots=True)
class LogIn:
    """Checks a username and password and opens a new session.

    A wrong username and a wrong password raise the same ``InvalidCredentials`` after
    the same hashing work. Every attempt is counted against the username, and
    against the client when its address is known, BEFORE the password is checked,
    by one atomic write of both counters (``RateLimiter.hit_all``): past
    ``max_failures`` within the window (or the client's limit) every attempt, even
    with the right password, raises ``TooManyAttempts`` until the window ends, and
    counts against neither, so no number of simultaneous guesses gets more than
    the limit judged. A successful log-in clears the username's
    count and gives the client's hit back, in the same write as the new session.
    ``AccountInactive`` is told only to someone who knows the password. Every
    log-in makes a new session id, so a session cannot be fixed.
    """

    users: UserRepository
    sessions: SessionStore
    hasher: PasswordHasher
    tokens: TokenCodec
    ids: IdGenerator
    clock: Clock
    session_ttl: timedelta
    attempts: RateLimiter
    policy: LoginPolicy = LoginPolicy()  # noqa: RUF009 - frozen, so shared safely

    def execute(
        self,
        username: str,
        password: str,
        current: User | None,
        client: str | None = None,
    ) -> LoggedIn:
        if current is not None:
            raise AlreadyAuthenticated()
        now = self.clock.now()
        # One write reserves both, all or nothing: a client out of guesses spends
        # none of the username's, and a locked username none of the client's.
        keys = [(self.policy.per_username, username_key(username))]
        if client:
            keys.append((self.policy.per_client, client))
        user_hit, *client_hits = self.attempts.hit_all(keys, now)
        user = self._find(username)
        if user is None:
            self.hasher.dummy_verify(password)
        if user is None or not self.hasher.verify(password, user.password_hash):
            raise InvalidCredentials()
        if not user.is_active:
            raise AccountInactive()
        session = Session(
            id=self.ids.new_id(),
            user_id=user.id,
            created_at=now,
            expires_at=now + self.session_ttl,
            epoch=user.session_epoch,
        )
        self.sessions.add(
            session,
            Settlement(clear=(user_hit,), refund=tuple(client_hits)),
        )
        return LoggedIn(session=session, token=self.tokens.issue(session))

    def _find(self, username: str) -> User | None:
        try:
            key = Username(username).key
        except DomainError:
            return None
        return self.users.get_by_username(key)
