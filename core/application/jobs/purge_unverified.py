from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.application.errors import ConcurrentUpdate
from core.application.ports import Clock, Position, SessionStore, UserRepository
from core.domain.user import Role


@dataclass(frozen=True, slots=True)
class PurgeUnverifiedJob:
    """The daily purge: plain users (role ``user``) who never verified their email
    and signed up more than ``older_than`` ago are removed, usernames and emails
    freed, and their sessions ended. Admins are never purged, and neither is a
    user with a Stripe customer or any subscription (someone who pays or paid):
    skipped here, and refused by the removal's own condition if billing was
    attached after the page was read.

    Reads the unverified users a page at a time, never the whole table. A user who
    changed since the page was read (verified meanwhile, say) is left alone: the
    removal is conditioned on the version read. Safe to run twice. Returns how many
    were purged.
    """

    users: UserRepository
    sessions: SessionStore
    clock: Clock
    older_than: timedelta
    page_size: int = 100

    def run(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        cutoff = self.clock.now() - self.older_than
        purged = 0
        start: Position | None = None
        while True:
            page = self.users.list_unverified(cutoff, self.page_size, start)
            for user in page.items:
                if (
                    user.role is not Role.USER
                    or user.email_verified
                    or user.created_at >= cutoff
                    or user.billing.customer_id
                    or user.billing.subscription is not None
                ):
                    continue
                try:
                    self.users.remove(user)
                except ConcurrentUpdate:
                    continue
                self.sessions.delete_all_for_user(user.id)
                purged += 1
            if page.next_position is None:
                return {"purged": purged}
            start = page.next_position
