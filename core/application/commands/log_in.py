from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.application.errors import (
    AccountInactive,
    AlreadyAuthenticated,
    InvalidCredentials,
)
from core.application.ports import (
    Clock,
    IdGenerator,
    PasswordHasher,
    SessionStore,
    TokenCodec,
    UserRepository,
)
from core.domain.errors import DomainError
from core.domain.session import Session
from core.domain.user import User, Username


@dataclass(frozen=True, slots=True)
class LoggedIn:
    session: Session
    token: str


@dataclass(frozen=True, slots=True)
class LogIn:
    """Checks a username and password and opens a new session.

    A wrong username and a wrong password raise the same ``InvalidCredentials`` after
    the same hashing work. ``AccountInactive`` is told only to someone who knows the
    password. Every log-in makes a new session id, so a session cannot be fixed.
    """

    users: UserRepository
    sessions: SessionStore
    hasher: PasswordHasher
    tokens: TokenCodec
    ids: IdGenerator
    clock: Clock
    session_ttl: timedelta

    def execute(self, username: str, password: str, current: User | None) -> LoggedIn:
        if current is not None:
            raise AlreadyAuthenticated()
        user = self._find(username)
        if user is None:
            self.hasher.dummy_verify(password)
            raise InvalidCredentials()
        if not self.hasher.verify(password, user.password_hash):
            raise InvalidCredentials()
        if not user.is_active:
            raise AccountInactive()
        now = self.clock.now()
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
