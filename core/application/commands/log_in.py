from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from core.application.errors import (
    AccountInactive,
    AlreadyAuthenticated,
    InvalidCredentials,
    TooManyAttempts,
)
from core.application.ports import (
    Clock,
    IdGenerator,
    LoginAttempts,
    PasswordHasher,
    SessionStore,
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
class LoginPolicy:
    """How many failed log-ins one username may have within ``window``."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class LogIn:
    """Checks a username and password and opens a new session.

    A wrong username and a wrong password raise the same ``InvalidCredentials`` after
    the same hashing work, and count alike against the username: after
    ``max_failures`` within the window every attempt, even with the right password,
    raises ``TooManyAttempts`` until the window ends; a successful log-in clears the
    count. ``AccountInactive`` is told only to someone who knows the password. Every
    log-in makes a new session id, so a session cannot be fixed.
    """

    users: UserRepository
    sessions: SessionStore
    hasher: PasswordHasher
    tokens: TokenCodec
    ids: IdGenerator
    clock: Clock
    session_ttl: timedelta
    attempts: LoginAttempts
    policy: LoginPolicy = LoginPolicy()

    def execute(self, username: str, password: str, current: User | None) -> LoggedIn:
        if current is not None:
            raise AlreadyAuthenticated()
        key = username_key(username)
        now = self.clock.now()
        window = self.attempts.current(key, now)
        if window is not None and window.failures >= self.policy.max_failures:
            seconds = (window.ends_at - now).total_seconds()
            raise TooManyAttempts(retry_after=max(1, math.ceil(seconds)))
        user = self._find(username)
        if user is None:
            self.hasher.dummy_verify(password)
        if user is None or not self.hasher.verify(password, user.password_hash):
            self.attempts.record_failure(key, now, self.policy.window)
            raise InvalidCredentials()
        if not user.is_active:
            raise AccountInactive()
        if window is not None:
            self.attempts.clear(key)
        session = Session(
            id=self.ids.new_id(),
            user_id=user.id,
            created_at=now,
            expires_at=now + self.session_ttl,
            epoch=user.session_epoch,
        )
        self.sessions.add(session)
        return LoggedIn(session=session, token=self.tokens.issue(session))

    def _find(self, username: str) -> User | None:
        try:
            key = Username(username).key
        except DomainError:
            return None
        return self.users.get_by_username(key)
