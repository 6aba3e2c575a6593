"""A local Stripe: the subset of the Stripe API that Strata's Stripe adapter uses,
in memory, with signed webhooks to the local API and a clock that can be moved.

    emulator = start(0, "http://127.0.0.1:8000/api/v1/webhooks/stripe", secret)
    ... emulator.url is the API base (STRATA_STRIPE_API_BASE) ...
    emulator.flush()   # every event so far delivered (or failed)
    emulator.stop()

The API (``Authorization: Bearer sk_test_...``, form-encoded nested parameters,
``Idempotency-Key``, Stripe's error bodies and list objects, the object shapes of
API version ``API_VERSION``): customers (create, retrieve, list, update, delete),
prices, products, webhook endpoints, Checkout sessions, billing portal sessions,
subscriptions (create, retrieve, list, update, cancel), invoices (retrieve, list,
``create_preview``, ``finalize``), charges (retrieve) and events. Every answer to
a call Strata makes, and every webhook event, carries each field stripe-python's
pinned version marks required, with that version's values
(``tests/local/test_emulator_contract.py`` checks it through the SDK). The pages
a person opens: ``/checkout/<cs>`` (pays at once, 303 to the success URL;
``?cancel=1`` goes to the cancel URL), ``/portal/<bps>``, ``/invoices/<in>/pay``
(pays an open invoice) and ``/invoices/<in>.pdf``.

Modelled as Stripe documents it:

- Checkout (``mode=subscription``): the subscription is made ``incomplete`` and
  turns ``active`` when its first invoice is paid (``trialing`` with a trial):
  ``customer.subscription.created``, ``invoice.paid``,
  ``customer.subscription.updated``, ``checkout.session.completed``.
- Bank transfer (``collection_method=send_invoice``): the subscription is
  ``active`` at once; its invoices are born ``draft`` (no number, no hosted page,
  ``invoice.created``) and finalized by ``POST /v1/invoices/<in>/finalize`` or an
  hour later (``invoice.finalized``, due ``days_until_due`` on); past the due date
  the subscription is ``past_due``; paying on the hosted page makes it active.
- Price changes, prorated to the second (``create_prorations``,
  ``always_invoice``, ``none``; ``proration_date``; another interval restarts the
  cycle), and ``create_preview`` of the same change; ``payment_behavior``
  ``error_if_incomplete`` (402 ``card_declined``), ``allow_incomplete``,
  ``default_incomplete`` and ``pending_if_incomplete``: an unpaid change waits in
  ``pending_update``, applied once its invoice is paid, discarded (the invoice
  voided) after 23 hours.
- ``cancel_at_period_end``; cancelling now (``DELETE``) with ``invoice_now`` and
  ``prorate``: a final invoice of the pending prorations and a credit for the
  unused time.
- The customer balance: an invoice whose total is negative credits it, and each
  later invoice (and preview) draws on it when finalized.
- Renewals, trials (``trial_will_end`` three days before), pause and resume.
- Dunning: a failed renewal is retried ``retry_days`` after each attempt (3, 5, 7
  by default); a paid retry makes the subscription active again, and after the
  last failed one it is ``canceled`` (reason ``payment_failed``; the default),
  ``unpaid`` (until its invoice is paid) or left ``past_due``, per the settings.
- Deleting a customer ends its subscriptions, then ``customer.deleted``.
- A charge per paid invoice with money in it; refunds (``charge.refunded``) and
  disputes (``charge.dispute.created``/``closed``) from the control endpoints.
- Idempotency: a repeat with the same key replays the first answer
  (``Idempotent-Replayed``), with other parameters is a 400
  ``idempotency_error``, and while the first is still being served is a 409
  ``idempotency_key_in_use`` (the SDK retries it).

Not modelled: more than one subscription item or Checkout line item; Checkout
``payment``/``setup`` modes and session expiry; taxes, coupons and discounts;
Smart Retries (a fixed schedule instead) and 3-D Secure beyond
``invoice.payment_action_required``; ``prorate`` without ``invoice_now`` (Stripe
keeps the credit as a pending invoice item; here it is dropped); renewals of an
``unpaid`` subscription (none until it is paid); an ``incomplete`` subscription
expiring; ``invoice.created`` for invoices other than drafts, and
``invoice.payment_succeeded``, ``invoice.updated``, ``customer.created``/
``updated``, ``charge.succeeded`` and payment intents; refunds, voiding or
marking invoices uncollectible through the API; test clocks (one clock for the
whole account); idempotency keys expiring after 24 hours; more than one webhook
endpoint (all events go to the URL the emulator was started with).

The control endpoints (JSON in and out; ``strata stripe ...`` calls them):

    GET  /_emulator/health              clock, pending deliveries, Stripe-Versions seen
    GET  /_emulator/events[/<evt>]      events with their delivery attempts
    GET  /_emulator/requests            the last API requests (version, key)
    POST /_emulator/advance             {"seconds"|"minutes"|"hours"|"days": N}
    POST /_emulator/fail-next-payment   {"customer"|"subscription": id,
                                         "action_required"?: true, "times"?: n}
    POST /_emulator/settings            {"dunning_retry_days"?: [days, ...],
                                         "dunning_final"?: "canceled"|"unpaid"|
                                         "past_due"}
    POST /_emulator/refund              {"charge"|"customer": id, "amount"?: n}
    POST /_emulator/dispute             {"charge"|"customer": id,
                                         "outcome"?: "won"|"lost"}
    POST /_emulator/renew               {"subscription": id}  (also trial-will-end,
                                         end-trial, pause, resume)
    POST /_emulator/replay              {"event": id}
    POST /_emulator/flush               {"timeout"?: s}  200, or 504 on timeout
    POST /_emulator/reset               every object and event forgotten, clock to 0,
                                        settings back to their defaults

In-process, for tests (``stripe_emulator.inprocess``): ``in_process(prices)``
makes one that listens on nothing, ``InProcessPool(emulator)`` answers a Stripe
client's requests through ``Emulator.handle``, and ``deliveries(emulator)`` hands
out its events signed as the webhooks would carry them.

Webhooks are posted from one thread, in creation order, only once the request that
caused them has been answered; a failed attempt (not 2xx, or no connection) is
retried after each of ``retry_delays`` and then marked failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from stripe_emulator.forms import encode_form, parse_form
from stripe_emulator.server import Emulator
from stripe_emulator.state import API_VERSION
from stripe_emulator.webhooks import DEFAULT_RETRY_DELAYS, signature_header

__all__ = [
    "API_VERSION",
    "DEFAULT_PORT",
    "DEFAULT_RETRY_DELAYS",
    "DEFAULT_WEBHOOK_SECRET",
    "WEBHOOK_PATH",
    "Emulator",
    "encode_form",
    "parse_form",
    "signature_header",
    "start",
]

DEFAULT_PORT = 12111
LOOPBACK = "127.0.0.1"
# Where the local API takes Stripe's webhooks (the stripe_webhook endpoint).
WEBHOOK_PATH = "/api/v1/webhooks/stripe"
# The emulator's own default signing secret; Strata's local stage signs with its
# settings' secret instead (local.stripe_plans.start passes it).
DEFAULT_WEBHOOK_SECRET = "whsec_stripe_emulator_0123456789abcdef"  # noqa: S105


def start(
    port: int = DEFAULT_PORT,
    webhook_url: str | None = None,
    secret: str = DEFAULT_WEBHOOK_SECRET,
    prices: Iterable[Mapping[str, Any]] | None = None,
    *,
    host: str = LOOPBACK,
    clock_offset_file: str | None = None,
    retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    delivery_timeout: float = 10.0,
) -> Emulator:
    """Serve the emulator on ``host:port`` (0: any free port) from a daemon thread.

    ``webhook_url`` receives every event, signed with ``secret`` (None: events are
    only logged). ``prices``: dicts with ``id``, ``interval`` (day, week, month,
    year), ``currency``, ``unit_amount`` and optionally ``interval_count``,
    ``product``, ``product_name``, ``nickname``, ``metadata``; by default none
    (``local.stripe_plans.start`` gives Strata's plan catalog).
    ``clock_offset_file`` receives the clock's total offset in seconds (a JSON
    number) whenever it moves. Raises ``OSError`` when the port is taken.
    """
    emulator = Emulator(
        host=host,
        port=port,
        webhook_url=webhook_url,
        secret=secret,
        prices=() if prices is None else prices,
        clock_offset_file=clock_offset_file,
        retry_delays=retry_delays,
        delivery_timeout=delivery_timeout,
    )
    return emulator.start()
