"""The rate limits of the account flows, as plain policies the interactors share.

Each becomes a ``Limit`` for the ``RateLimiter`` port: a counter per key and fixed
window, hit with one conditional write before the work it guards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.application.ports import Limit


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
