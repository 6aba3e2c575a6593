"""Stripe's own SDK, configured once: ``stripe.StripeClient`` on our HTTP client,
and its errors translated into ours.

The client is pinned to the API version the SDK was generated for
(``API_VERSION``), so response shapes match its typed objects and do not move
when the account's default version does; webhook payloads follow the endpoint's
own version, which ``register_endpoint`` sets to the same.

Errors (``translate``): Stripe unreachable, rate limiting or failing after the
retries (a connection error, a 429, a 5xx, a 409 that outlasted them, an answer
that is not JSON) is
``PaymentProviderUnavailable``, with the SDK's error chained for the logs; our
key refused (401, 403) is too, since that is our misconfiguration and nothing a
client can fix; any other 4xx is ``StripeRequestRejected`` (a
``PaymentProviderRejected``) carrying Stripe's message and code. No message
ever contains the secret key.

Importing this module imports the SDK: only ``core.adapters.stripe`` may, and
only functions whose catalog entry names ``stripe:api`` or ``stripe:webhook``
reach it (an import contract and tests/functions/test_stripe_imports.py).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TypeVar

import stripe
from stripe._api_version import _ApiVersion

from core.adapters.stripe.http import Pool, Urllib3HttpClient
from core.application.errors import (
    PaymentProviderRejected,
    PaymentProviderUnavailable,
)

API_VERSION: str = _ApiVersion.CURRENT
DEFAULT_BASE_URL = "https://api.stripe.com"
# Stripe's limit on an idempotency key.
MAX_IDEMPOTENCY_KEY_LENGTH = 255
DEFAULT_MAX_RETRIES = 2

logger = logging.getLogger("strata.stripe")
T = TypeVar("T")

# Anything that looks like a Stripe secret or restricted key.
_KEY_PATTERN = re.compile(r"\b(?:sk|rk)_(?:test|live)_[0-9A-Za-z]+")
_HEADER_SAFE = re.compile(r"^[\x21-\x7e]+$")


class StripeRequestRejected(PaymentProviderRejected):
    """Stripe refused the request with a 4xx. ``message`` is Stripe's own text.

    ``status`` is the HTTP status; ``stripe_code`` (for example
    ``resource_missing``), ``param`` and ``request_id`` are as Stripe sent them,
    when it did. The problem ``code`` stays ``payment_provider_rejected``.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        stripe_code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.stripe_code = stripe_code
        self.param = param
        self.request_id = request_id


class StripeFailure(Exception):
    """What went wrong, redacted: chained as the cause of
    ``PaymentProviderUnavailable``, for the logs (never shown to API clients)."""


def build_stripe_client(
    api_key: str,
    *,
    base_url: str = DEFAULT_BASE_URL,
    max_retries: int = DEFAULT_MAX_RETRIES,
    http_client: Urllib3HttpClient | None = None,
    pool: Pool | None = None,
) -> stripe.StripeClient:
    """The SDK's client on ``http_client`` (by default one on urllib3 over
    ``pool``, or a pool of its own made by the first request). Opens nothing."""
    if not api_key or not _HEADER_SAFE.match(api_key):
        raise ValueError("the Stripe API key is empty or not sendable in a header")
    if not base_url.startswith(("https://", "http://")):
        raise ValueError("the Stripe base URL must be http(s)://host[:port]")
    if max_retries < 0:
        raise ValueError("retries are not negative")
    return stripe.StripeClient(
        api_key,
        stripe_version=API_VERSION,
        base_addresses={"api": base_url.rstrip("/")},
        http_client=http_client or Urllib3HttpClient(pool=pool),
        max_network_retries=max_retries,
    )


def call(request: Callable[[], T]) -> T:
    """Run one SDK request; its errors become ours (``translate``)."""
    try:
        return request()
    except stripe.StripeError as exc:
        # Chained to the redacted account of the SDK's error, not to it.
        error = translate(exc)
        raise error from error.__cause__


def redact(text: str, api_key: str | None = None) -> str:
    if api_key:
        text = text.replace(api_key, "[redacted]")
    return _KEY_PATTERN.sub("[redacted]", text)


def translate(exc: stripe.StripeError) -> Exception:
    """Our error for one of the SDK's, its ``__cause__`` a redacted account of
    it (raise it ``from`` that cause: the SDK's error may quote what we sent)."""
    message = redact(exc.user_message or "")
    status = exc.http_status
    cause = StripeFailure(
        f"{type(exc).__name__}: {message or 'no message'} "
        f"(HTTP {status or '-'}, request {exc.request_id or '-'})"
    )
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        # Our key is wrong or lacks a permission: the service is misconfigured.
        logger.error("stripe refused our API key (HTTP %s): %s", status, message)
        return _unavailable(cause)
    if (
        status is None
        or not 400 <= status < 500
        or isinstance(exc, stripe.APIError)
        or status == 429
        or isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError)
    ):
        return _unavailable(cause)
    if status == 409:
        # A lock timeout or a key still in use that outlasted the retries:
        # Stripe cannot answer now, which is no refusal. (A key reused with
        # other parameters is a 400 ``idempotency_error``: rejected.)
        return _unavailable(cause)
    error = exc.error
    rejected = StripeRequestRejected(
        message or f"Stripe refused the request (HTTP {status})",
        status=status,
        stripe_code=exc.code,
        param=getattr(error, "param", None) if error is not None else None,
        request_id=exc.request_id,
    )
    rejected.__cause__ = cause
    return rejected


def _unavailable(cause: Exception) -> PaymentProviderUnavailable:
    error = PaymentProviderUnavailable()
    error.__cause__ = cause
    return error
