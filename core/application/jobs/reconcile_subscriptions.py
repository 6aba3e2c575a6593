from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.application.billing import SubscriptionWriter
from core.application.errors import PaymentProviderRejected
from core.application.ports import BillingStore, Clock, PaymentProvider, Position

logger = logging.getLogger("strata.billing")


@dataclass(frozen=True, slots=True)
class ReconcileSubscriptionsJob:
    """The daily repair of lost webhooks: every stored subscription that is not in
    a terminal state is re-read from Stripe, and stored again only where Stripe's
    answer differs (an ended subscription leaves the index, so it is not read
    again; one in step costs no write).

    Pages through an index of live subscriptions, never the whole table. A
    subscription Stripe no longer knows is counted and left alone. Stripe being
    unreachable fails the attempt (the task is retried); safe to run twice.
    Returns how many were checked, repaired and unknown.
    """

    store: BillingStore
    provider: PaymentProvider
    writer: SubscriptionWriter
    clock: Clock
    page_size: int = 100

    def run(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        checked = repaired = unknown = 0
        start: Position | None = None
        while True:
            page = self.store.subscribed_users(self.page_size, start)
            for user in page.items:
                stored = user.billing.subscription
                if stored is None or stored.is_terminal:
                    continue  # the index lags a moment behind writes
                checked += 1
                try:
                    snapshot = self.provider.get_subscription(stored.id)
                except PaymentProviderRejected:
                    logger.warning(
                        "subscription unknown to Stripe",
                        extra={"user_id": user.id, "subscription_id": stored.id},
                    )
                    unknown += 1
                    continue
                if not _differs(stored, snapshot):
                    continue  # in step with Stripe: no write
                after = self.writer.store(user, snapshot, self.clock.now())
                fresh = after.billing.subscription
                if fresh is not None and _differs(stored, fresh):
                    repaired += 1
                    logger.info(
                        "subscription repaired",
                        extra={"user_id": user.id, "status": fresh.status.value},
                    )
            if page.next_position is None:
                return {"checked": checked, "repaired": repaired, "unknown": unknown}
            start = page.next_position


def _differs(before: Any, after: Any) -> bool:
    """Whether two states (stored or as Stripe says) disagree on what matters."""
    fields = ("price_id", "current_period_end", "cancel_at_period_end", "trial_end")
    return str(before.status) != str(after.status) or any(
        getattr(before, name) != getattr(after, name) for name in fields
    )
