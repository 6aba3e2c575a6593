from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.application.errors import PaymentProviderRejected
from core.application.jobs import text
from core.application.org_billing import per_seat_subscription
from core.application.org_ports import OrganizationStore
from core.application.seat_billing import SeatBilling
from core.domain.seats import SeatsExhausted

logger = logging.getLogger("strata.billing")


@dataclass(frozen=True, slots=True)
class SyncSeatsJob:
    """Sets an organization's Stripe quantity to its member count after a
    membership change: payload ``{org_id, change_id}`` (``change_id``: the id of
    the change's audit entry; see ``SeatSync``).

    The count is the organization's as read now (consistently), not the one at
    the time of the change: tasks may run out of order, and the last one to run
    must leave Stripe at the true count. The Stripe key is made from the change
    and that count, so a retry of the same change with the same count (a worker
    that died after Stripe answered, a lost response) replays the first answer and
    bills nothing more; a retry that finds another count sets it under a new key,
    which another change's task sets too: setting a quantity Stripe already has
    prorates nothing.

    Stripe unreachable fails the attempt (the worker retries; the daily
    reconciliation catches what the retries could not). Nothing to do, and no
    retry, for an organization that is gone or has no live per-seat subscription,
    a subscription Stripe refuses (ended), or a count above the plan's seats
    (logged; the reconciliation bills the limit and reports it)."""

    orgs: OrganizationStore
    seats: SeatBilling

    def run(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        org_id = text(payload, "org_id")
        change_id = text(payload, "change_id")
        org = self.orgs.get(org_id)
        subscription = (
            None
            if org is None
            else per_seat_subscription(org, self.seats.config.catalog)
        )
        if org is None or subscription is None:
            return {"synced": False}
        count = org.seats_used
        try:
            change = self.seats.follow_members(
                org_id=org.id,
                subscription_id=subscription.id,
                plan_key=subscription.plan_key,
                member_count=count,
                change_id=f"{change_id}-{count}",
            )
        except SeatsExhausted:
            logger.error(
                "organization has more members than its plan has seats",
                extra={"org_id": org.id, "members": count},
            )
            return {"synced": False, "over_limit": True}
        except PaymentProviderRejected:
            logger.warning(
                "stripe refused the seat quantity: subscription ended or unknown",
                extra={"org_id": org.id, "subscription_id": subscription.id},
            )
            return {"synced": False}
        if change is None:
            return {"synced": False}
        return {"synced": True, "quantity": change.quantity}
