"""Stripe through its own SDK: the ``PaymentProvider`` and ``WebhookVerifier``.

- ``http``: ``Urllib3HttpClient``, the SDK's HTTP client on urllib3 (no
  ``requests``, no ``httpx``), its retries held to a deadline;
- ``client``: ``stripe.StripeClient`` built on it, pinned to the SDK's API
  version, and the SDK's errors translated into ours;
- ``provider``: ``StripePaymentProvider``, the calls Strata makes, and
  ``build_payment_provider``, what the composition root and tests call;
- ``objects``: Stripe objects to the port's snapshots, shared with the webhooks;
- ``webhooks``: ``StripeWebhookVerifier``, the SDK's signature check plus ours.

This package is the only one that imports ``stripe`` (an import contract), and
this ``__init__`` imports none of it, so that the modules are loaded only by
the functions that call Stripe.
"""
