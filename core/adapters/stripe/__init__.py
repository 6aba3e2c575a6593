"""Stripe, spoken over plain HTTPS: the ``PaymentProvider`` and ``WebhookVerifier``.

- ``client``: a small urllib3 client (auth, version pin, form encoding,
  idempotency keys, retries, typed errors);
- ``provider``: ``StripePaymentProvider``, the calls Strata makes;
- ``objects``: Stripe JSON to the port's snapshots, shared with the webhooks;
- ``webhooks``: ``StripeWebhookVerifier``, signature and timestamp checks.

Nothing here imports the stripe-python SDK; see ``client`` for why.
"""
