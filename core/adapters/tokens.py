"""``TokenCodec`` as a JWT signed with HS256."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import jwt

from core.application.errors import NotAuthenticated
from core.application.ports import TokenClaims
from core.domain.session import Session

ALGORITHM = "HS256"


class JwtTokenCodec:
    """HS256 only: the algorithm is pinned on reading, so ``none`` and key-confusion
    tokens are refused. The token expires with its session.

    Expiry and issue time are checked against ``now`` (the application's clock),
    not by PyJWT against the system time, so that a clock moved forward on the
    local stack (``strata stripe advance``) moves token expiry with sessions.
    """

    def __init__(
        self, secret: str, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._secret = secret
        self._now = now

    def issue(self, session: Session) -> str:
        claims = {
            "sid": session.id,
            "sub": session.user_id,
            "exp": int(session.expires_at.timestamp()),
            "iat": int(session.created_at.timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def read(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={
                    "require": ["exp", "sid", "sub"],
                    # Checked below against our clock instead of the system's.
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError:
            raise NotAuthenticated() from None
        sid, sub, exp = claims.get("sid"), claims.get("sub"), claims.get("exp")
        if not isinstance(sid, str) or not isinstance(sub, str) or not sid or not sub:
            raise NotAuthenticated()
        # PyJWT accepts a numeric string or a huge number as ``exp``; neither is ours.
        if not isinstance(exp, int) or isinstance(exp, bool):
            raise NotAuthenticated()
        try:
            expires_at = datetime.fromtimestamp(exp, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise NotAuthenticated() from None
        now = self._now()
        if expires_at <= now:
            raise NotAuthenticated()
        issued = claims.get("iat")
        if issued is not None and (
            not isinstance(issued, int)
            or isinstance(issued, bool)
            or issued > now.timestamp()
        ):
            raise NotAuthenticated()
        return TokenClaims(session_id=sid, user_id=sub, expires_at=expires_at)
