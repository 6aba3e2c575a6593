from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial

from core.application.billing import (
    ATTEMPTS,
    CHARGE_REFUNDED,
    CUSTOMER_DELETED,
    DISPUTE_CLOSED,
    DISPUTE_CREATED,
    HANDLED_EVENTS,
    BillingConfig,
    is_duplicate,
    may_replace,
    parse_status,
    subscription_from,
)
from core.application.errors import (
    ConcurrentUpdate,
    DuplicateEvent,
    PaymentProviderRejected,
)
from core.application.org_billing import OrgBillingStore, with_org_billing
from core.application.org_ports import OrganizationStore
from core.application.organizations import AuditTrail
from core.application.ports import (
    BillingEvent,
    BillingStore,
    Clock,
    PaymentProvider,
    SubscriptionSnapshot,
    UserRepository,
    WebhookVerifier,
)
from core.application.tasks import SEND_EMAIL, TaskSubmitter
from core.domain.billing import (
    PAID_STATUSES,
    TERMINAL_STATUSES,
    Billing,
    Subscription,
    SubscriptionStatus,
    grace_deadline,
)
from core.domain.organization import AuditAction, AuditEntry, Organization, OrgRole
from core.domain.user import User

# The actor of the audit entries that Stripe's webhooks report.
STRIPE_ACTOR = "stripe"
# A subscription whose first payment has not arrived: not a billing change yet.
_UNPAID_CHECKOUT = frozenset(
    {SubscriptionStatus.INCOMPLETE, SubscriptionStatus.INCOMPLETE_EXPIRED}
)

logger = logging.getLogger("strata.billing")

# The least step in time: a re-read stamped this much after the state it replaces.
_TICK = timedelta(microseconds=1)

# A subscription that was in one of these had its "started" email already.
_STARTED_BEFORE = PAID_STATUSES | {
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.UNPAID,
    SubscriptionStatus.PAUSED,
}

# Email templates, by the event that sends them.
# "Subscription started" is named for the event that usually carries it, but it
# goes when a subscription is first stored active or trialing, whichever event
# says so (see ``_template``).
STARTED = "subscription_started"
EMAILS = {
    "customer.subscription.created": STARTED,
    "customer.subscription.deleted": "subscription_canceled",
    "customer.subscription.trial_will_end": "trial_ending",
    "invoice.payment_failed": "payment_failed",
    "invoice.payment_action_required": "payment_action_required",
    DISPUTE_CREATED: "dispute_opened",
    # Only when the dispute is lost (see ``_template``).
    DISPUTE_CLOSED: "dispute_lost",
    CHARGE_REFUNDED: "refund_issued",
}
# An organization's owners get these, each naming the organization; "started" as
# a person's does (see ``_template``).
ORG_STARTED = "org_subscription_started"
ORG_EMAILS = {
    "customer.subscription.created": ORG_STARTED,
    "customer.subscription.deleted": "org_subscription_canceled",
    "invoice.payment_failed": "org_payment_failed",
}
# Members read a page at a time to find the owners.
_MEMBER_PAGE = 100


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Handled:
    """A verified event (its id and type, Stripe's) and what became of it."""

    event_id: str
    event_type: str
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class HandleStripeEvent:
    """One webhook delivery from Stripe, verified, applied once and in order.

    1. The signature is checked over the raw body (``InvalidSignature``: nothing
       is stored).
    2. An event processed before is acknowledged and does nothing.
    3. The user is found from the metadata we set, else from the customer.
    4. Subscription state is replaced only by news newer than what wrote it: an
       event carries its creation time; an event created in the same second as
       the stored state, an invoice event and a completed checkout re-read the
       subscription from Stripe instead of trusting their payload.
    5. Its email (if the type sends one) is queued under a task id made from the
       event id, so it is queued once however often the event arrives.
    6. The event id and the new state are written in one transaction: a
       concurrent duplicate fails its condition and changes nothing.

    An organization's subscription (its metadata names ``org_id``, or its
    customer was made for an organization) goes through the same steps 2, 4 and
    6, on the organization's billing instead of a user's (the same ``_apply``),
    and the organization's plan and seat limit follow the stored subscription.
    A change of the subscription itself (started, ended, another status, plan or
    cancellation) is appended to the organization's audit log in the same
    transaction, by ``stripe``. Its owners (active accounts) are emailed when it
    starts, ends or a payment fails (``ORG_EMAILS``), each under a task id made
    from the event's and their own, through the same queue as a person's.
    """

    verifier: WebhookVerifier
    users: UserRepository
    store: BillingStore
    provider: PaymentProvider
    submitter: TaskSubmitter
    config: BillingConfig
    clock: Clock
    orgs: OrganizationStore
    org_billing: OrgBillingStore
    trail: AuditTrail

    def execute(self, payload: bytes, signature: str) -> Handled:
        event = self.verifier.verify(payload, signature)
        return Handled(event.id, event.type, self._handle(event))

    def _handle(self, event: BillingEvent) -> Outcome:
        if event.type not in HANDLED_EVENTS:
            return Outcome.IGNORED
        if self.store.was_processed(event.id):
            return Outcome.DUPLICATE
        org = self._org_named(event)
        if org is not None:
            return self._handle_org(event, org)
        user = self._owner(event)
        if user is None:
            # Not a person's customer: an organization's, perhaps.
            org = self._org_of_customer(event)
            if org is not None:
                return self._handle_org(event, org)
            # Not ours (another app on the same account) or already deleted: say
            # so once, and do not make Stripe retry for days.
            logger.warning(
                "stripe event for no known user", extra={"event_id": event.id}
            )
            outcome = self._record(event, None)
            return Outcome.IGNORED if outcome is Outcome.APPLIED else outcome
        for _ in range(ATTEMPTS):
            try:
                updated = self._apply(event, user)
            except PaymentProviderRejected:
                # Stripe does not know the subscription the event names (deleted,
                # or another account's): nothing to apply, nothing to retry.
                logger.warning(
                    "stripe event about an unknown subscription",
                    extra={"event_id": event.id},
                )
                outcome = self._record(event, None)
                return Outcome.IGNORED if outcome is Outcome.APPLIED else outcome
            if updated != user or _concerns_current(event, updated):
                # Not for news that was set aside: a late "canceled" about an old
                # subscription must not tell the user their new one ended.
                self._queue_email(event, user, updated)
            try:
                return self._record(event, updated if updated != user else None)
            except ConcurrentUpdate:
                reloaded = self.users.get(user.id)
                if reloaded is None:
                    return self._record(event, None)
                user = reloaded
        raise ConcurrentUpdate()

    # -- steps ---------------------------------------------------------------------

    def _customer_of(self, event: BillingEvent) -> str | None:
        if event.subscription is not None:
            return event.subscription.customer_id
        if event.checkout is not None:
            return event.checkout.customer_id
        if event.invoice is not None:
            return event.invoice.customer_id
        if event.customer_id is not None:
            return event.customer_id
        if event.charge is not None:
            return event.charge.customer_id
        if event.dispute is not None:
            # A dispute names only its charge; the charge says whose it is.
            return self.provider.get_charge(event.dispute.charge_id).customer_id
        return None

    def _owner(self, event: BillingEvent) -> User | None:
        user_id = None
        if event.subscription is not None:
            user_id = event.subscription.user_id
        elif event.checkout is not None:
            user_id = event.checkout.user_id
        customer_id = self._customer_of(event)
        if user_id:
            user = self.users.get(user_id)
            # Metadata is a hint; the customer's claim decides. Metadata naming a
            # user whose stored customer is this one costs no second read.
            if user is not None and (
                user.billing.customer_id == customer_id
                or (customer_id is None and user.billing.customer_id is not None)
            ):
                return user
        if customer_id:
            owner = self.store.owner_of(customer_id)
            if owner is not None:
                if user_id and user_id != owner:
                    logger.warning(
                        "stripe event metadata names another user than the "
                        "customer's owner: the owner wins",
                        extra={"event_id": event.id},
                    )
                return self.users.get(owner)
        return None

    def _apply(self, event: BillingEvent, user: User) -> User:
        billing = self._apply_billing(
            event,
            user.billing,
            lambda snapshot: _belongs_to(snapshot, user),
            {"user_id": user.id},
        )
        return user if billing == user.billing else user.with_billing(billing)

    def _apply_billing(
        self,
        event: BillingEvent,
        billing: Billing,
        belongs: Callable[[SubscriptionSnapshot], bool],
        payer: Mapping[str, str],
    ) -> Billing:
        """The billing state of whoever pays (a user, an organization) after
        ``event``: ``billing`` itself when the event changes nothing. ``belongs``
        says whether a subscription read from Stripe is this payer's."""
        if event.charge is not None or event.dispute is not None:
            return self._money_back(event, billing, payer)
        if event.type in ("invoice.voided", "invoice.marked_uncollectible"):
            logger.warning(
                "stripe invoice will not be paid",
                extra={"event_id": event.id, "event_type": event.type},
            )
        if event.type == CUSTOMER_DELETED:
            if billing.customer_id != event.customer_id:
                return billing  # an old customer of theirs: nothing stored names it
            # Stripe ended its subscriptions with it: no customer, and the
            # subscription (if any) kept only as ended, so that the next checkout
            # makes a new customer and gives no second trial.
            ended = billing.subscription
            if ended is not None and not ended.is_terminal:
                ended = replace(
                    ended,
                    status=SubscriptionStatus.CANCELED,
                    cancel_at_period_end=False,
                    observed_at=self._reread_time(event, ended.observed_at),
                )
            return Billing(subscription=ended)
        stored = billing.subscription
        snapshot: SubscriptionSnapshot | None = None
        reread = False
        observed_at = event.created
        if event.subscription is not None:
            snapshot = event.subscription
            if stored is not None and stored.id == snapshot.id:
                # Stripe stamps events in whole seconds, our own writes finer.
                second = stored.observed_at.replace(microsecond=0)
                if event.created < second:
                    return billing  # older news: ignored
                if event.created == second:
                    # Same second: the payload cannot say which is newer; Stripe can.
                    snapshot = self.provider.get_subscription(snapshot.id)
                    reread = True
                    observed_at = self._reread_time(event, stored.observed_at)
        else:
            subscription_id = None
            if event.invoice is not None:
                subscription_id = event.invoice.subscription_id
            elif event.checkout is not None:
                subscription_id = event.checkout.subscription_id
            if subscription_id is None:
                return billing
            about_older = (
                stored is not None
                and stored.id != subscription_id
                and not stored.is_terminal
                and event.created < stored.observed_at.replace(microsecond=0)
            )
            if about_older:
                return billing  # news of a subscription older than the stored one
            snapshot = self.provider.get_subscription(subscription_id)
            reread = True
            observed_at = self._reread_time(
                event, stored.observed_at if stored is not None else None
            )
        if reread and not belongs(snapshot):
            # Someone else's subscription (a forged or mistaken metadata, another
            # customer): never stored on this payer.
            logger.warning(
                "stripe subscription does not belong to the payer: not stored",
                extra={"event_id": event.id, "subscription_id": snapshot.id},
            )
            return billing
        incoming = subscription_from(snapshot, self.config.catalog, observed_at, stored)
        if is_duplicate(stored, incoming) and self._cancel_duplicate(stored, incoming):
            return billing
        if not may_replace(stored, incoming):
            return billing
        return billing.with_subscription(incoming)

    def _money_back(
        self, event: BillingEvent, billing: Billing, payer: Mapping[str, str]
    ) -> Billing:
        """Refunds and disputes. A refund and an opened dispute change no
        entitlement (an operator decides; the WARNING line is for their alert). A
        lost dispute ends the paid features at once: the subscription is canceled
        at Stripe without credit (the money was taken back) and stored canceled."""
        details = {"event_id": event.id, "event_type": event.type, **payer}
        if event.type != DISPUTE_CLOSED:
            logger.warning("stripe money taken back or disputed", extra=details)
            return billing
        assert event.dispute is not None
        if event.dispute.status != "lost":
            logger.info("stripe dispute closed in our favour", extra=details)
            return billing
        logger.warning("stripe dispute lost: paid features end", extra=details)
        stored = billing.subscription
        if stored is None or stored.is_terminal:
            return billing
        snapshot = self.provider.cancel_now(
            stored.id, idempotency_key=f"dispute-lost-{event.dispute.id}", credit=False
        )
        canceled = subscription_from(
            snapshot,
            self.config.catalog,
            self._reread_time(event, stored.observed_at),
            stored,
        )
        return billing.with_subscription(canceled)

    # -- organizations -----------------------------------------------------------------

    def _org_named(self, event: BillingEvent) -> Organization | None:
        """The organization the event's metadata names, if its stored customer
        is the event's (metadata is a hint; the customer's claim decides)."""
        org_id = None
        customer_id = None
        if event.subscription is not None:
            org_id = event.subscription.org_id
            customer_id = event.subscription.customer_id
        elif event.checkout is not None:
            org_id = event.checkout.org_id
            customer_id = event.checkout.customer_id
        if not org_id:
            return None
        org = self.orgs.get(org_id)
        if (
            org is not None
            and org.billing.customer_id is not None
            and (customer_id in (None, org.billing.customer_id))
        ):
            return org
        return self._org_of_customer(event)

    def _org_of_customer(self, event: BillingEvent) -> Organization | None:
        customer_id = self._customer_of(event)
        if not customer_id:
            return None
        org_id = self.org_billing.org_of_customer(customer_id)
        return self.orgs.get(org_id) if org_id else None

    def _handle_org(self, event: BillingEvent, org: Organization) -> Outcome:
        """Steps 4 and 6 for an organization: the same rules on its billing, its
        plan and seat limit stored with the subscription, in one transaction with
        the event id (a join or removal meanwhile moves its version: re-read)."""
        current = org
        for _ in range(ATTEMPTS):
            try:
                billing = self._apply_billing(
                    event,
                    current.billing,
                    partial(_belongs_to_org, org=current),
                    {"org_id": current.id},
                )
            except PaymentProviderRejected:
                logger.warning(
                    "stripe event about an unknown subscription",
                    extra={"event_id": event.id},
                )
                outcome = self._record_org(event, None)
                return Outcome.IGNORED if outcome is Outcome.APPLIED else outcome
            changed = (
                None
                if billing == current.billing
                else with_org_billing(current, billing, self.config.catalog)
            )
            if changed is not None or _concerns(event, billing.subscription):
                # As a person's: not for news set aside about an old subscription.
                self._queue_org_emails(event, current, changed or current)
            try:
                return self._record_org(event, changed, self._audit(current, changed))
            except ConcurrentUpdate:
                reloaded = self.orgs.get(current.id)
                if reloaded is None:
                    return self._record_org(event, None)
                current = reloaded
        raise ConcurrentUpdate()

    def _audit(
        self, before: Organization, after: Organization | None
    ) -> AuditEntry | None:
        """The audit entry of a change of ``before``'s subscription, if the
        subscription itself changed: not for news that only moves its quantity
        (the member changes that move it are logged) or its period, nor for a
        checkout not paid yet (``incomplete``, or expired unpaid): nothing is
        billed or granted until it is, and whether Stripe's news shows that
        step depends on how its events race."""
        old = before.billing.subscription
        new = None if after is None else after.billing.subscription
        if new is None or new.shown_status in _UNPAID_CHECKOUT:
            return None
        if _billing_facts(old) == _billing_facts(new):
            return None
        details = {
            "status": new.shown_status.value,
            "plan": new.plan_key,
            "cancel_at_period_end": str(new.cancel_at_period_end).lower(),
        }
        return self.trail.entry(
            before.id,
            STRIPE_ACTOR,
            AuditAction.BILLING_SUBSCRIPTION_CHANGED,
            new.id,
            details,
        )

    def _queue_org_emails(
        self, event: BillingEvent, before: Organization, after: Organization
    ) -> None:
        template = _first_paid_or(
            event, before.billing, after.billing, ORG_EMAILS, ORG_STARTED
        )
        if template is None:
            return
        context = {
            "org_name": after.name.value,
            **self._billing_context(event, after.billing.subscription),
        }
        for owner in self._owners(after.id):
            # Under an id made from the event's and the owner's: each owner's
            # email is queued once however often the event comes.
            self.submitter.submit_once(
                SEND_EMAIL,
                {
                    "to": owner.email.value,
                    "template": template,
                    "context": {**context, "username": owner.username.value},
                },
                owner_id=owner.id,
                task_id=f"stripe-{event.id}-{owner.id}",
            )

    def _owners(self, org_id: str) -> list[User]:
        """The organization's owners whose accounts can still be reached (a
        deactivated user keeps the role but gets no mail)."""
        owners: list[User] = []
        start = None
        while True:
            page = self.orgs.list_members(org_id, _MEMBER_PAGE, start)
            for membership in page.items:
                if membership.role is not OrgRole.OWNER:
                    continue
                user = self.users.get(membership.user_id)
                if user is not None and user.is_active:
                    owners.append(user)
            if page.next_position is None:
                return owners
            start = page.next_position

    def _record_org(
        self,
        event: BillingEvent,
        org: Organization | None,
        audit: AuditEntry | None = None,
    ) -> Outcome:
        now = self.clock.now()
        try:
            self.org_billing.record_event(
                event.id, event.type, now, now + self.config.event_keep, org, audit
            )
        except DuplicateEvent:
            return Outcome.DUPLICATE
        return Outcome.APPLIED

    def _cancel_duplicate(
        self, stored: Subscription | None, duplicate: Subscription
    ) -> bool:
        """A second live subscription (two checkouts paid, say): a user has one
        subscription, so the one that came second ends at once, its unused time
        credited to the customer's balance. Ending one is not done on the word of
        events, which may be stale: only if Stripe says both are live. ``False``
        when the newcomer should simply take the place of one that has ended."""
        assert stored is not None
        kept = self.provider.get_subscription(stored.id)
        fresh = self.provider.get_subscription(duplicate.id)
        both_live = is_duplicate(
            replace(stored, status=parse_status(kept.status)),
            replace(duplicate, status=parse_status(fresh.status)),
        )
        if not both_live:
            return parse_status(fresh.status) in TERMINAL_STATUSES
        logger.warning(
            "second live subscription canceled",
            extra={"subscription_id": duplicate.id, "kept": stored.id},
        )
        self.provider.cancel_now(
            duplicate.id, idempotency_key=f"cancel-duplicate-{duplicate.id}"
        )
        return True

    def _reread_time(self, event: BillingEvent, stored: datetime | None) -> datetime:
        """A re-read is as new as the news that prompted it, and newer than what is
        stored: later events (created after it) still replace it."""
        if stored is None or event.created > stored:
            return event.created
        return stored + _TICK

    def _queue_email(self, event: BillingEvent, before: User, user: User) -> None:
        template = _template(event, before, user)
        if template is None:
            return
        context = {
            "username": user.username.value,
            **self._billing_context(event, user.billing.subscription),
        }
        # Under an id made from the event's: queued once however often it comes.
        self.submitter.submit_once(
            SEND_EMAIL,
            {"to": user.email.value, "template": template, "context": context},
            owner_id=user.id,
            task_id=f"stripe-{event.id}",
        )

    def _billing_context(
        self, event: BillingEvent, subscription: Subscription | None
    ) -> dict[str, str]:
        """What a billing email says beside whom it greets: the plan, its dates,
        the amount and where to pay."""
        context: dict[str, str] = {}
        if subscription is not None:
            plan = self.config.catalog.get(subscription.plan_key)
            context["plan"] = plan.name if plan is not None else subscription.plan_key
            if subscription.current_period_end is not None:
                context["period_end"] = (
                    subscription.current_period_end.date().isoformat()
                )
            if subscription.trial_end is not None:
                context["trial_end"] = subscription.trial_end.date().isoformat()
            if subscription.status is SubscriptionStatus.PAST_DUE:
                deadline = grace_deadline(subscription, self.config.grace)
                if deadline is not None:
                    context["grace_until"] = deadline.date().isoformat()
        if event.charge is not None:
            refunded = event.charge.amount_refunded or event.charge.amount
            context["amount"] = _money(refunded, event.charge.currency)
        if event.dispute is not None:
            context["amount"] = _money(event.dispute.amount, event.dispute.currency)
        if event.invoice is not None:
            invoice = event.invoice
            context["amount"] = _money(invoice.amount_due, invoice.currency)
            if invoice.hosted_invoice_url:
                context["pay_url"] = invoice.hosted_invoice_url
        return context

    def _record(self, event: BillingEvent, user: User | None) -> Outcome:
        now = self.clock.now()
        try:
            self.store.record_event(
                event.id, event.type, now, now + self.config.event_keep, user
            )
        except DuplicateEvent:
            return Outcome.DUPLICATE
        return Outcome.APPLIED


def _template(event: BillingEvent, before: User, after: User) -> str | None:
    """The email an event sends. "Subscription started" goes once the stored
    subscription is active or trialing and was not (a new one, or one whose first
    payment just went through): never for an incomplete or unpaid one."""
    if event.type == DISPUTE_CLOSED and (
        event.dispute is None or event.dispute.status != "lost"
    ):
        return _first_paid_or(event, before.billing, after.billing, {}, STARTED)
    return _first_paid_or(event, before.billing, after.billing, EMAILS, STARTED)


def _first_paid_or(
    event: BillingEvent,
    before: Billing,
    after: Billing,
    emails: Mapping[str, str],
    started: str,
) -> str | None:
    """``started`` if the stored subscription became active or trialing (see
    ``_template``), else the email ``emails`` names for the event, if any."""
    now = after.subscription
    if now is not None and now.status in PAID_STATUSES:
        was = before.subscription
        if was is None or was.id != now.id or was.status not in _STARTED_BEFORE:
            return started
    template = emails.get(event.type)
    return None if template == started else template


def _belongs_to(snapshot: SubscriptionSnapshot, user: User) -> bool:
    """A subscription read from Stripe is the user's only if its customer is the
    user's customer and its ``metadata.user_id``, when set, names the user (one
    made outside Strata has none: the customer's claim decides)."""
    return snapshot.customer_id == user.billing.customer_id and (
        snapshot.user_id in (None, user.id)
    )


def _billing_facts(
    subscription: Subscription | None,
) -> tuple[str, SubscriptionStatus, str, bool] | None:
    """What an organization's audit log records of its subscription."""
    if subscription is None:
        return None
    return (
        subscription.id,
        subscription.shown_status,
        subscription.plan_key,
        subscription.cancel_at_period_end,
    )


def _belongs_to_org(snapshot: SubscriptionSnapshot, org: Organization) -> bool:
    """As ``_belongs_to``, for an organization: its customer, and metadata naming
    no user and, when it names one, this organization."""
    return (
        snapshot.customer_id == org.billing.customer_id
        and snapshot.user_id is None
        and snapshot.org_id in (None, org.id)
    )


def _concerns_current(event: BillingEvent, user: User) -> bool:
    """Whether the event is about the subscription the user has now."""
    return _concerns(event, user.billing.subscription)


def _concerns(event: BillingEvent, current: Subscription | None) -> bool:
    """Whether the event is about ``current``, the subscription stored now."""
    if current is None:
        return True
    subscription_id = (
        event.subscription.id
        if event.subscription is not None
        else event.invoice.subscription_id
        if event.invoice is not None
        else event.checkout.subscription_id
        if event.checkout is not None
        else None
    )
    return subscription_id in (None, current.id)


def _money(amount: int, currency: str) -> str:
    """``1500, "usd"`` -> ``"15.00 USD"`` (two-decimal currencies; Stripe's
    zero-decimal ones such as JPY would need their own rule)."""
    return f"{amount / 100:.2f} {currency.upper()}"
