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

    def is_past_max_age(self, now: datetime, max_age: timedelta) -> bool:
        """True once the session is ``max_age`` old: renewals never move it past
        that, however active its user."""
        return now >= self.created_at + max_age

    def renewed(
        self, now: datetime, ttl: timedelta, max_age: timedelta | None = None
    ) -> Session:
        """Live ``ttl`` from ``now``, but never past ``created_at + max_age``, and
        never shorter than it already does."""
        expires_at = now + ttl
        if max_age is not None:
            expires_at = min(expires_at, self.created_at + max_age)
        return replace(self, expires_at=max(expires_at, self.expires_at))

    def in_epoch(self, epoch: int) -> Session:
        return replace(self, epoch=epoch)
