"""Billing of organizations: what the organization billing use cases, the webhook
and the seat sync share.

An organization subscribes like a person (same plans, same Stripe flows, same
``Billing`` and ``Subscription`` values); only the owner of the subscription
differs. Its billing state lives on the organization item, written through
``OrgBillingStore``. Two things follow from the subscription and are stored with
it: the organization's ``plan_key`` and its ``seat_limit`` (the condition every
join checks in its transaction), so that the limit in force is the limit of the
plan Stripe bills. While a change to a plan with fewer seats is at Stripe, a seat
hold binds joins to the new plan's seats as well (``OrgBillingStore.hold_seats``),
so that no join can take a seat the new plan does not have.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from core.application.authorization import can_manage_org_billing, require
from core.application.billing import BillingConfig, may_replace, subscription_from
from core.application.errors import ConcurrentUpdate, NoSubscription, UnknownPlan
from core.application.org_ports import AuditLog, OrganizationStore
from core.application.organizations import AuditTrail, load_membership
from core.application.plan_change import ChangeTarget
from core.application.ports import Clock, PaymentProvider, SubscriptionSnapshot
from core.application.tasks import SYNC_SEATS, TaskSubmitter
from core.domain.billing import (
    Billing,
    Entitlements,
    Interval,
    Plan,
    PlanCatalog,
    Subscription,
    SubscriptionStatus,
    entitlements,
)
from core.domain.organization import (
    AuditAction,
    AuditEntry,
    Organization,
    OrganizationNotFound,
)
from core.domain.seats import seat_quantity
from core.domain.user import User

logger = logging.getLogger("strata.billing")

# Tries of a read-modify-write of one organization's billing before giving up.
ATTEMPTS = 3


class OrgBillingStore(Protocol):
    """An organization's billing state (customer, subscription, and the plan and
    seat limit they give) on the organization item, beside ``OrganizationStore``.

    Every write is conditional on the organization's ``version`` as read (joins and
    removals move it on too): ``ConcurrentUpdate`` when it moved, and the caller
    re-reads and decides again. ``OrganizationNotFound`` when it is gone.
    """

    def attach_customer(self, org: Organization, customer_id: str) -> Organization:
        """Store ``customer_id`` on the organization and claim the customer for it,
        atomically (the claim routes Stripe events that name only the customer);
        returns the organization as stored."""
        ...

    def org_of_customer(self, customer_id: str) -> str | None:
        """The id of the organization a Stripe customer was made for, if any."""
        ...

    def save_billing(
        self,
        org: Organization,
        audit: AuditEntry | None = None,
        release_hold: bool = False,
    ) -> Organization:
        """Store ``org``'s billing, ``plan_key`` and ``seat_limit`` (and nothing
        else of it) and, in the same transaction, append ``audit`` to the
        organization's log; returns it as stored. With ``release_hold`` (only the
        plan change that took the hold stores with it) the same write ends the
        seat hold (``hold_seats``); every other write, a webhook's included,
        leaves the hold as it is."""
        ...

    def hold_seats(
        self, org_id: str, plan_key: str, limit: int, until: datetime
    ) -> None:
        """Hold the organization to ``limit`` seats (``plan_key``'s, a plan with
        fewer seats than the limit in force) until ``until``, in one write
        conditional on it having at most ``limit`` members: until then every
        join checks the hold as well as ``seat_limit``, atomically with the
        membership write, and a join the hold refuses is ``SeatsExhausted``.
        ``SeatsExhausted`` (for ``plan_key``; nothing written) when it has more
        members, ``OrganizationNotFound`` when it is gone.

        The hold is apart from ``seat_limit`` so that no other write moves it: a
        webhook stored while the change is at Stripe sets ``seat_limit`` from the
        plan still stored, and the hold still binds. Only ``release_seat_hold``,
        ``save_billing(release_hold=True)`` and its time end it: a hold past
        ``until`` binds no join, so a change that never comes back (a crash)
        holds the seats for a while, never for ever.

        Unlike every other write here it neither checks nor moves the
        ``version``: a plan change holds the seats before asking Stripe, and the
        idempotency key it sends and the write that stores Stripe's answer both
        name the version read before."""
        ...

    def release_seat_hold(self, org_id: str, limit: int) -> None:
        """End the hold ``hold_seats`` took, only if it is still ``limit``'s.
        Otherwise, or when the organization is gone, nothing happens. Neither
        checks nor moves the ``version``."""
        ...

    def record_event(
        self,
        event_id: str,
        event_type: str,
        now: datetime,
        expires_at: datetime,
        org: Organization | None = None,
        audit: AuditEntry | None = None,
    ) -> None:
        """Mark the Stripe event processed (where ``BillingStore`` marks a
        person's, so one ``was_processed`` serves both) and, in the same
        transaction, ``save_billing(org)`` and append ``audit`` to the
        organization's log. ``DuplicateEvent`` if it was recorded before (nothing
        saved)."""
        ...


def load_billed_org(orgs: OrganizationStore, org_id: str, actor: User) -> Organization:
    """The organization whose billing ``actor`` manages: its admins and owners
    (``PermissionDenied`` for a member; ``OrganizationNotFound`` for a
    non-member, as for every organization route). One read."""
    org, membership = load_membership(orgs, org_id, actor)
    require(can_manage_org_billing(membership.role))
    return org


# A subscription in one of these has started and not ended: its plan's seats hold.
_SEATED = frozenset(
    {
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.TRIALING,
        SubscriptionStatus.PAST_DUE,
        SubscriptionStatus.UNPAID,
        SubscriptionStatus.PAUSED,
    }
)


def seated_plan(billing: Billing, catalog: PlanCatalog) -> Plan:
    """The plan whose seats an organization has: its subscription's while that has
    started and not ended (a payment being late does not remove members), else
    the free plan. Unlike the entitlements it does not move with the clock: it is
    stored, as the condition of the joins."""
    subscription = billing.subscription
    if subscription is not None and subscription.status in _SEATED:
        plan = catalog.get(subscription.plan_key)
        if plan is not None:
            return plan
    return catalog.free


def with_org_billing(
    org: Organization, billing: Billing, catalog: PlanCatalog
) -> Organization:
    """``org`` with ``billing``, and the plan key and seat limit it gives."""
    plan = seated_plan(billing, catalog)
    return replace(org, billing=billing, plan_key=plan.key, seat_limit=plan.seat_limit)


@dataclass(frozen=True, slots=True)
class OrgSubscriptionView:
    """An organization's subscription, what its plan allows now, and its seats:
    used (members) and the plan's limit (``None``: no limit)."""

    subscription: Subscription | None
    entitlements: Entitlements
    seats_used: int
    seat_limit: int | None


def org_view(
    config: BillingConfig, org: Organization, now: datetime
) -> OrgSubscriptionView:
    return OrgSubscriptionView(
        org.billing.subscription,
        org_entitlements(config, org, now),
        org.seats_used,
        org.seat_limit,
    )


def org_entitlements(
    config: BillingConfig, org: Organization, now: datetime
) -> Entitlements:
    """What ``org``'s plan allows at ``now``, from the organization already read
    (no read of its own): the person's rule (paid, trialing, or inside the grace
    period of a failed payment), applied to the organization's subscription."""
    return entitlements(org.billing, config.catalog, now, config.grace)


def per_seat_subscription(
    org: Organization, catalog: PlanCatalog
) -> Subscription | None:
    """The organization's subscription if it has started, has not ended and is
    on a per-seat plan: the one whose quantity follows the members."""
    subscription = org.billing.subscription
    if subscription is None or subscription.status not in _SEATED:
        return None
    plan = catalog.get(subscription.plan_key)
    return subscription if plan is not None and plan.per_seat else None


def live_org_subscription(org: Organization) -> Subscription:
    """The organization's subscription if it can still be changed, else
    ``NoSubscription``."""
    subscription = org.billing.subscription
    if subscription is None or subscription.is_terminal:
        raise NoSubscription()
    return subscription


def org_change_target(
    org: Organization, plan_key: str, interval: Interval
) -> ChangeTarget:
    """The change of ``org``'s live subscription to ``plan_key`` per ``interval``
    (``NoSubscription`` without one); a proration token is bound to the
    organization, never to the admin who asked."""
    subscription = live_org_subscription(org)
    return ChangeTarget(
        f"org:{org.id}", org.billing.customer_id or "", subscription, plan_key, interval
    )


def seats_to_bill(catalog: PlanCatalog, org: Organization, plan_key: str) -> int:
    """The quantity ``org`` is billed for on ``plan_key`` (a plan of the catalog):
    its members on a per-seat plan, one unit on a flat one. ``SeatsExhausted``
    when it has more members than the plan has seats, for either kind: a change
    never leaves an organization above its seat limit."""
    plan = catalog.get(plan_key)
    if plan is None:
        raise UnknownPlan(f"no paid plan named {plan_key!r}")
    return seat_quantity(plan, org.seats_used)


@dataclass(frozen=True, slots=True)
class OrgBillingWriter:
    """Stores what Stripe answered to one of our own writes on an organization
    (as ``SubscriptionWriter`` does for a person: only newer news replaces the
    stored state), re-reading it when a join, a removal or a webhook moved its
    version meanwhile.

    ``audit``, the entry of the admin's action, is written in the transaction
    that stores the answer; when there is nothing to store (a webhook stored
    newer news first) it is appended alone: the action happened at Stripe
    either way, and the log must say who did it.

    ``hold``, the seats a plan change held (``OrgBillingStore.hold_seats``), is
    released by the write that stores the answer, or on its own when there is
    nothing to store: the stored limit is then a newer one's."""

    orgs: OrganizationStore
    billing: OrgBillingStore
    catalog: PlanCatalog
    log: AuditLog

    def store(
        self,
        org: Organization,
        snapshot: SubscriptionSnapshot,
        observed_at: datetime,
        audit: AuditEntry | None = None,
        hold: int | None = None,
    ) -> Organization:
        current = org
        for _ in range(ATTEMPTS):
            previous = current.billing.subscription
            incoming = subscription_from(snapshot, self.catalog, observed_at, previous)
            if not may_replace(previous, incoming):
                if audit is not None:
                    self.log.append(audit)
                if hold is not None:
                    self.billing.release_seat_hold(current.id, hold)
                return current
            updated = with_org_billing(
                current, current.billing.with_subscription(incoming), self.catalog
            )
            try:
                return self.billing.save_billing(
                    updated, audit, release_hold=hold is not None
                )
            except ConcurrentUpdate:
                reloaded = self.orgs.get(current.id)
                if reloaded is None:
                    raise OrganizationNotFound() from None
                current = reloaded
        raise ConcurrentUpdate()


@dataclass(frozen=True, slots=True)
class CancelAtPeriodEnd:
    """Cancel (``cancel=True``) or resume an organization's subscription at the
    end of its period, and store what Stripe answers: what the organization
    cancel and resume use cases share, as the persons' do. The key names the
    subscription and the organization's version, so a retried request sets it
    once and a later one is a new request."""

    orgs: OrganizationStore
    provider: PaymentProvider
    writer: OrgBillingWriter
    config: BillingConfig
    clock: Clock
    trail: AuditTrail

    def execute(self, actor: User, org_id: str, cancel: bool) -> OrgSubscriptionView:
        org = load_billed_org(self.orgs, org_id, actor)
        subscription = live_org_subscription(org)
        verb = "cancel" if cancel else "resume"
        snapshot = self.provider.set_cancel_at_period_end(
            subscription.id,
            cancel,
            idempotency_key=f"{verb}-{subscription.id}-org-{org.version}",
        )
        action = AuditAction.BILLING_CANCELED if cancel else AuditAction.BILLING_RESUMED
        audit = self.trail.entry(
            org.id, actor, action, subscription.id, {"plan": subscription.plan_key}
        )
        now = self.clock.now()
        stored = self.writer.store(org, snapshot, now, audit)
        return org_view(self.config, stored, now)


@dataclass(frozen=True, slots=True)
class SeatSync:
    """Hands a membership change that moved the member count to the ``sync_seats``
    job (``jobs/sync_seats.py``), which sets the Stripe quantity.

    Why a job and not a Stripe call in the request: the membership is committed
    by its DynamoDB transaction before anything is asked of Stripe, so a Stripe
    outage must not fail (or lose) the change. The task is stored and queued under
    an id made from the change (its audit entry's id), and the worker retries it
    until Stripe answers; every attempt sends the same idempotency key for the
    same count, so Stripe bills the change once. Only organizations with a live
    per-seat subscription submit anything (no write, no queue message otherwise).
    If even the task cannot be stored or queued, the change stays committed and
    the error is logged: the daily reconciliation sets the quantity."""

    submitter: TaskSubmitter
    catalog: PlanCatalog

    def after_change(self, org: Organization, change_id: str) -> None:
        if per_seat_subscription(org, self.catalog) is None:
            return
        try:
            self.submitter.submit_once(
                SYNC_SEATS,
                {"org_id": org.id, "change_id": change_id},
                owner_id=None,
                task_id=f"seats-{change_id}",
            )
        except Exception:
            # Committed already: answering an error would make the client retry a
            # change that is done. The daily reconciliation repairs the quantity.
            logger.exception(
                "seat sync could not be queued: the daily reconciliation will",
                extra={"org_id": org.id, "change_id": change_id},
            )
