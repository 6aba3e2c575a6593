"""The rate limits of the account flows, as plain policies the interactors share.

Each becomes a ``Limit`` for the ``RateLimiter`` port: a counter per key and fixed
window, hit with one conditional write before the work it guards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.application.errors import TooManyAttempts
from core.application.ports import Clock, Limit, RateLimiter


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """Password guesses: at most ``max_failures`` judged per username per
    ``window`` (a right password clears the count), and at most
    ``client_max_failures`` failed guesses per client (source address) per
    ``client_window``, whatever the usernames."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    client_max_failures: int = 20
    client_window: timedelta = timedelta(minutes=15)

    @property
    def per_username(self) -> Limit:
        return Limit("login", self.max_failures, self.window)

    @property
    def per_client(self) -> Limit:
        return Limit("login-client", self.client_max_failures, self.client_window)


@dataclass(frozen=True, slots=True)
class EmailPolicy:
    """Emails a stranger can trigger: at most ``per_address`` of one kind to one
    address per ``address_window``, and ``per_client`` of any kind asked for by one
    client per ``client_window``."""

    per_address: int = 1
    address_window: timedelta = timedelta(minutes=5)
    per_client: int = 10
    client_window: timedelta = timedelta(hours=1)

    def per_recipient(self, kind: str) -> Limit:
        return Limit(f"email-{kind}", self.per_address, self.address_window)

    @property
    def per_requester(self) -> Limit:
        return Limit("email-client", self.per_client, self.client_window)


@dataclass(frozen=True, slots=True)
class EmailThrottle:
    """Counts the emails strangers make Strata send, before they are queued."""

    attempts: RateLimiter
    clock: Clock
    policy: EmailPolicy = EmailPolicy()

    def allow(self, kind: str, address_key: str, client: str | None) -> bool:
        """Count one ``kind`` email to ``address_key`` asked for by ``client``:
        ``TooManyAttempts`` when the client is over its limit (that says nothing
        about any account); ``False`` when the address has had its share of this
        kind lately, so the caller sends nothing and answers as if it had (a
        hit per address, known or not, so this says nothing either)."""
        now = self.clock.now()
        if client:
            self.attempts.hit(self.policy.per_requester, client, now)
        try:
            self.attempts.hit(self.policy.per_recipient(kind), address_key, now)
        except TooManyAttempts:
            return False
        return True

    def require(self, kind: str, address_key: str, client: str | None) -> None:
        """Like ``allow``, for an asker who owns the address: a refusal for the
        address is a ``TooManyAttempts`` too."""
        now = self.clock.now()
        if client:
            self.attempts.hit(self.policy.per_requester, client, now)
        self.attempts.hit(self.policy.per_recipient(kind), address_key, now)
