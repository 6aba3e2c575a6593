"""The emulated Stripe account: customers, prices, Checkout and portal sessions,
subscriptions, invoices and the events they cause, all in memory.

``StripeState`` only composes the resources, one module each: ``store`` (the
objects, by id), ``events``, ``customers``, ``checkout``, ``subscriptions`` (with
``proration``), ``invoices`` (with ``lines`` and ``payments``) and ``renewals``
(what moving the clock does). Objects are stored in the shape the Stripe API
returns them (API version ``API_VERSION``), so rendering one is a deep copy. Every
method runs under the emulator's one lock (the HTTP layer holds it), so nothing
here locks.

Events are emitted in this order, whatever caused them: the subscription's event
(``customer.subscription.created``/``updated``/``deleted``) first, with its final
state, then the invoice's (``invoice.paid``/``payment_failed``/
``payment_action_required``/``finalized``), then ``checkout.session.completed``.
The exceptions are payments that change the subscription's status: on the
Checkout page (``customer.subscription.created`` while ``incomplete``,
``invoice.paid``, the ``customer.subscription.updated`` to ``active``, then
``checkout.session.completed``) and on the hosted invoice page (``invoice.paid``,
then the ``customer.subscription.updated`` it causes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from stripe_emulator.charges import Charges
from stripe_emulator.checkout import Checkout
from stripe_emulator.clock import Clock
from stripe_emulator.customers import Customers
from stripe_emulator.events import API_VERSION, EventLog, event_body
from stripe_emulator.invoices import Invoices
from stripe_emulator.lines import Lines, money
from stripe_emulator.params import Obj, StripeError, expand_list, new_id
from stripe_emulator.payments import Payments
from stripe_emulator.proration import Proration
from stripe_emulator.renewals import Renewals
from stripe_emulator.store import Store
from stripe_emulator.subscriptions import Subscriptions

# What the HTTP layer and the pages import from here.
__all__ = [
    "API_VERSION",
    "Obj",
    "StripeError",
    "StripeState",
    "event_body",
    "expand_list",
    "money",
    "new_id",
]


class StripeState:
    """The account. ``emit`` receives each event as it is created.

    The objects are read here by kind (``customers``, ``subscriptions``, ...);
    every API and control operation is the resource module's own method.
    """

    def __init__(
        self,
        base_url: str,
        prices: Iterable[Mapping[str, Any]],
        clock: Clock,
        emit: Callable[[Obj], None],
        *,
        webhooks: bool = True,
    ) -> None:
        self.store = Store(base_url, prices, clock)
        self.log = EventLog(self.store, emit, webhooks=webhooks)
        lines = Lines(self.store)
        payments = Payments(self.store)
        proration = Proration(self.store, lines)
        invoices = Invoices(self.store, self.log, lines, payments, proration)
        subscriptions = Subscriptions(
            self.store, self.log, payments, invoices, proration
        )
        customers = Customers(self.store)
        charges = Charges(self.store, self.log)
        checkout = Checkout(
            self.store, self.log, customers, subscriptions, invoices, payments
        )
        renewals = Renewals(
            self.store, self.log, lines, payments, invoices, subscriptions
        )

        # For tests that make at Stripe what no API call of Strata's makes (an
        # invoice of a given amount): the invoice operations themselves.
        self.invoice_ops = invoices

        self.reset = self.store.reset
        self.lookup = self.store.lookup
        self.get = self.store.get
        self.create_customer = customers.create_customer
        self.update_customer = customers.update_customer
        self.create_checkout_session = checkout.create_checkout_session
        self.complete_checkout = checkout.complete_checkout
        self.create_portal_session = checkout.create_portal_session
        self.create_subscription = subscriptions.create_subscription
        self.update_subscription = subscriptions.update_subscription
        self.cancel_subscription = subscriptions.cancel_subscription
        self.delete_customer = subscriptions.delete_customer
        self.refund = charges.refund
        self.dispute = charges.dispute
        self.list_subscriptions = subscriptions.list_subscriptions
        self.preview_invoice = invoices.preview_invoice
        self.list_invoices = invoices.list_invoices
        self.finalize_invoice = invoices.finalize_invoice
        self.pay_invoice = invoices.pay_invoice
        self.fail_next_payment = payments.fail_next_payment
        self.advance = renewals.advance
        self.run_due = renewals.run_due
        self.renew = renewals.renew
        self.trial_will_end = renewals.trial_will_end
        self.end_trial = renewals.end_trial
        self.pause = renewals.pause
        self.resume = renewals.resume

    # The objects, by kind: read through to the store, whose reset replaces them.

    @property
    def base_url(self) -> str:
        return self.store.base_url

    @property
    def clock(self) -> Clock:
        return self.store.clock

    @property
    def customers(self) -> dict[str, Obj]:
        return self.store.customers

    @property
    def prices(self) -> dict[str, Obj]:
        return self.store.prices

    @property
    def products(self) -> dict[str, Obj]:
        return self.store.products

    @property
    def sessions(self) -> dict[str, Obj]:
        return self.store.sessions

    @property
    def portal_sessions(self) -> dict[str, Obj]:
        return self.store.portal_sessions

    @property
    def subscriptions(self) -> dict[str, Obj]:
        return self.store.subscriptions

    @property
    def charges(self) -> dict[str, Obj]:
        return self.store.charges

    @property
    def invoices(self) -> dict[str, Obj]:
        return self.store.invoices

    @property
    def events(self) -> dict[str, Obj]:
        return self.store.events

    # The API request being served, which each event names.

    @property
    def request_id(self) -> str | None:
        return self.log.request_id

    @request_id.setter
    def request_id(self, value: str | None) -> None:
        self.log.request_id = value

    @property
    def idempotency_key(self) -> str | None:
        return self.log.idempotency_key

    @idempotency_key.setter
    def idempotency_key(self, value: str | None) -> None:
        self.log.idempotency_key = value
