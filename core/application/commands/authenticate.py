from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.application.errors import NotAuthenticated
from core.application.ports import Clock, SessionStore, TokenCodec
from core.domain.session import Session
from core.domain.user import User


@dataclass(frozen=True, slots=True)
class Authenticated:
    user: User
    session: Session
    renewed_token: str | None = None


@dataclass(frozen=True, slots=True)
class Authenticate:
    """Resolves a session token to its user, renewing the session when it runs low.

    Costs: a forged or expired token is refused without touching storage; a valid
    one costs one read (session and user together); a renewal adds one write.
    Raises ``NotAuthenticated`` unless the session exists, is unexpired, belongs to
    the token's user, is of the user's current epoch, and the user is active.
    ``renew=False`` only checks, for callers that refuse logged-in users anyway.

    A session has an absolute lifetime, ``session_max_age`` from its creation
    (which the session item carries, read in the same round trip): renewals never
    extend it past that, and from then on it is refused and the user logs in
    again.
    """

    sessions: SessionStore
    tokens: TokenCodec
    clock: Clock
    session_ttl: timedelta
    renew_threshold: float
    session_max_age: timedelta = timedelta(hours=12)

    def execute(self, token: str, renew: bool = True) -> Authenticated:
        claims = self.tokens.read(token)
        session, user = self.sessions.get_with_user(claims.session_id, claims.user_id)
        now = self.clock.now()
        if (
            session is None
            or user is None
            or session.user_id != claims.user_id
            or session.is_expired(now)
            or session.is_past_max_age(now, self.session_max_age)
            or session.epoch != user.session_epoch
            or not user.is_active
        ):
            raise NotAuthenticated()
        if not renew or not session.needs_renewal(
            now, self.session_ttl, self.renew_threshold
        ):
            return Authenticated(user=user, session=session)
        renewed = session.renewed(now, self.session_ttl, self.session_max_age)
        if renewed.expires_at <= session.expires_at:
            # At its absolute end already: nothing to renew.
            return Authenticated(user=user, session=session)
        self.sessions.extend(renewed.id, renewed.expires_at)
        return Authenticated(
            user=user, session=renewed, renewed_token=self.tokens.issue(renewed)
        )
