"""A login session: what a session cookie points at."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Session:
    """A session lives until ``expires_at``; the token naming it expires with it."""

    id: str
    user_id: str
    created_at: datetime
    expires_at: datetime
    epoch: int = 0

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def needs_renewal(self, now: datetime, ttl: timedelta, threshold: float) -> bool:
        """True when less than ``threshold`` (a share of ``ttl``) of its life is left.

        Renewing early keeps an active user logged in without a write per request.
        """
        return self.expires_at - now < ttl * threshold

    def renewed(self, now: datetime, ttl: timedelta) -> Session:
        return replace(self, expires_at=now + ttl)

    def in_epoch(self, epoch: int) -> Session:
        return replace(self, epoch=epoch)
