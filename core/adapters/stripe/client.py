"""A small Stripe API client on urllib3.

Why not the stripe-python SDK: it is about 17 MB installed and importing it costs
about 170 ms, paid in the cold start of every billing Lambda, for the nine calls
Strata makes (stripe 16.1 on Python 3.11; measure with ``du -sh --exclude
__pycache__`` on its package directory and ``python -X importtime -c "import
stripe"``). urllib3 is already in the Lambda layer and already imported, since
botocore depends on it, so this client costs one small module. The SDK stays a
dev dependency, used by tests to check this client against it (form encoding,
webhook signatures).

What it does, as the SDK does:

- ``Authorization: Bearer <secret key>`` and ``Stripe-Version: API_VERSION`` on
  every request, so response shapes do not change under us when the account's
  default version moves (webhook payloads follow the endpoint's own version, set
  in Stripe; the verifier logs a mismatch);
- parameters form-encoded the way Stripe reads them (``metadata[user_id]=x``,
  ``line_items[0][price]=p``, booleans as ``true``/``false``, None left out);
- an ``Idempotency-Key`` on every POST, made by the caller from our own ids and
  sent unchanged on every retry, so a retried create cannot create twice;
- network retries with exponential backoff and jitter, on connection errors and
  timeouts, 409 ``lock_timeout``, 429 and 5xx, deferring to Stripe's
  ``Stripe-Should-Retry`` header; any other 4xx is final.

Errors: Stripe unreachable or failing after the retries (a 5xx, or a 429 or
lock timeout that outlasted them) raises ``PaymentProviderUnavailable``, with the
cause chained for the logs; any other 4xx raises ``StripeRequestRejected`` (a
``PaymentProviderRejected``) carrying Stripe's own message. No message ever
contains the secret key.

The client is built by the composition root, never at import; building it opens
nothing: the connection pool is made by the first request.
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, Protocol
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ProtocolError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from core.application.errors import (
    PaymentProviderRejected,
    PaymentProviderUnavailable,
)

# The version stripe-python 16.1 pins (stripe._api_version._ApiVersion.CURRENT).
API_VERSION = "2026-10-28.endive"
DEFAULT_BASE_URL = "https://api.stripe.com"
USER_AGENT = "Strata/0.1 (urllib3)"

# Stripe's limit on an idempotency key.
MAX_IDEMPOTENCY_KEY_LENGTH = 255

logger = logging.getLogger("strata.stripe")

# Anything that looks like a Stripe secret or restricted key, masked in messages
# as well as the configured key itself.
_KEY_PATTERN = re.compile(r"\b(?:sk|rk)_(?:test|live)_[0-9A-Za-z]+")
_HEADER_SAFE = re.compile(r"^[\x21-\x7e]+$")


class HttpAnswer(Protocol):
    """What the client reads of an answer (a ``urllib3.BaseHTTPResponse``)."""

    @property
    def status(self) -> int: ...

    @property
    def data(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


class HttpPool(Protocol):
    """What the client needs of a ``urllib3.PoolManager``: one ``request``."""

    def request(
        self,
        method: str,
        url: str,
        *,
        body: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> HttpAnswer: ...


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


class StripeResponseError(Exception):
    """What Stripe answered when it failed: chained as the cause of
    ``PaymentProviderUnavailable``, for the logs (never shown to API clients)."""

    def __init__(self, detail: str, *, status: int, request_id: str | None) -> None:
        super().__init__(f"{detail} (HTTP {status}, request {request_id or '-'})")
        self.status = status
        self.request_id = request_id


def encode_form(params: Mapping[str, object]) -> list[tuple[str, str]]:
    """``params`` as the (key, value) pairs of Stripe's form encoding.

    Nested mappings become ``key[sub]``, sequences ``key[0]``, ``key[1]`` (always
    indexed, as stripe-python does), booleans ``true``/``false``; a None is left
    out, at any depth. Only str, int, bool, None, mappings and lists or tuples
    are accepted: anything else (a float, a datetime) is a programming error.
    """
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        _flatten(key, value, pairs)
    return pairs


def _flatten(key: str, value: object, out: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, bool):  # before int: a bool is an int
        out.append((key, "true" if value else "false"))
    elif isinstance(value, str | int):
        out.append((key, str(value)))
    elif isinstance(value, Mapping):
        for subkey, subvalue in value.items():
            _flatten(f"{key}[{subkey}]", subvalue, out)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _flatten(f"{key}[{index}]", item, out)
    else:
        raise TypeError(f"cannot form-encode {key} of type {type(value).__name__}")


class StripeClient:
    """Stripe's REST API over one lazily made urllib3 pool; thread-safe.

    ``max_retries`` is the number of retries after the first attempt. The delay
    before retry n (from 1) is ``initial_delay * 2**(n-1)``, capped at
    ``max_delay``, then scaled by a random factor in [0.5, 1) so that many
    clients do not retry in step. ``sleep`` and ``rand`` exist for tests, and so
    does ``pool``: what requests go through instead of the urllib3 pool the first
    request makes (the tests' in-process Stripe emulator).

    A worst case is ``(max_retries + 1) * (connect_timeout + read_timeout)`` plus
    the delays: keep that inside the calling Lambda's timeout.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        max_retries: int = 2,
        initial_delay: float = 0.5,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        pool: HttpPool | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("the Stripe API key is empty")
        if not _HEADER_SAFE.match(api_key):
            raise ValueError("the Stripe API key has characters a header cannot carry")
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("the Stripe base URL must be http(s)://host[:port]")
        if max_retries < 0 or connect_timeout <= 0 or read_timeout <= 0:
            raise ValueError("timeouts must be positive and retries not negative")
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self._max_retries = max_retries
        self._initial_delay = initial_delay
        self._max_delay = max_delay
        self._sleep = sleep
        self._rand = rand
        self._pool: HttpPool | None = pool
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self._base_url

    def get(
        self, path: str, params: Mapping[str, object] | None = None
    ) -> dict[str, Any]:
        """GET ``path`` (``/v1/...``) with ``params`` in the query string."""
        query = urlencode(encode_form(params or {}))
        return self._request("GET", f"{path}?{query}" if query else path, None, None)

    def post(
        self,
        path: str,
        params: Mapping[str, object] | None = None,
        *,
        idempotency_key: str,
    ) -> dict[str, Any]:
        """POST ``params`` form-encoded to ``path``. The ``idempotency_key`` is sent
        on every attempt: Stripe answers a repeat with the first result."""
        if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            raise ValueError("an idempotency key is 1 to 255 characters")
        if not _HEADER_SAFE.match(idempotency_key):
            raise ValueError("an idempotency key is printable ASCII without spaces")
        body = urlencode(encode_form(params or {}))
        return self._request("POST", path, body, idempotency_key)

    def delete(
        self,
        path: str,
        params: Mapping[str, object] | None = None,
        *,
        idempotency_key: str,
    ) -> dict[str, Any]:
        """DELETE ``path``, ``params`` in the query string as Stripe takes them."""
        if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            raise ValueError("an idempotency key is 1 to 255 characters")
        query = urlencode(encode_form(params or {}))
        return self._request(
            "DELETE", f"{path}?{query}" if query else path, None, idempotency_key
        )

    # -- internals --------------------------------------------------------------------

    def _pool_manager(self) -> HttpPool:
        pool = self._pool
        if pool is None:
            with self._lock:
                pool = self._pool
                if pool is None:
                    # Retries and redirects are ours to decide (a redirect from
                    # the API would be a misconfigured base URL, not a result).
                    pool = self._pool = urllib3.PoolManager(
                        num_pools=2,
                        maxsize=10,
                        retries=False,
                        timeout=self._timeout,
                    )
        return pool

    def _headers(self, idempotency_key: str | None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Stripe-Version": API_VERSION,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
        }
        if idempotency_key is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def _request(
        self, method: str, path: str, body: str | None, idempotency_key: str | None
    ) -> dict[str, Any]:
        url = self._base_url + path
        headers = self._headers(idempotency_key)
        attempt = 0
        while True:
            try:
                response = self._pool_manager().request(
                    method,
                    url,
                    body=body,
                    headers=headers,
                    retries=False,
                    redirect=False,
                    timeout=self._timeout,
                )
            except Urllib3Error as exc:
                # A certificate error will not heal on retry; a refused, reset
                # or timed-out connection may. Retrying a POST whose answer was
                # lost is safe: the idempotency key replays the first result.
                retryable = isinstance(exc, Urllib3Timeout | ProtocolError)
                if retryable and attempt < self._max_retries:
                    attempt += 1
                    self._back_off(attempt, method, path, type(exc).__name__)
                    continue
                failure = _ConnectionFailure(
                    method,
                    path,
                    attempt + 1,
                    f"{type(exc).__name__}: {self._redact(str(exc))}",
                )
                failure.__cause__ = exc
                raise PaymentProviderUnavailable() from failure
            status = response.status
            payload = _json_object(response.data)
            if 200 <= status < 300:
                if payload is None:
                    raise PaymentProviderUnavailable() from StripeResponseError(
                        "the response is not a JSON object",
                        status=status,
                        request_id=response.headers.get("Request-Id"),
                    )
                return payload
            error = _error_body(payload)
            if attempt < self._max_retries and _should_retry(
                status, error.get("code"), response.headers.get("Stripe-Should-Retry")
            ):
                attempt += 1
                self._back_off(attempt, method, path, f"HTTP {status}")
                continue
            self._fail(status, error, response.headers.get("Request-Id"))

    def _back_off(self, attempt: int, method: str, path: str, reason: str) -> None:
        delay = min(self._max_delay, self._initial_delay * 2 ** (attempt - 1))
        delay *= 0.5 + 0.5 * self._rand()
        logger.warning(
            "stripe %s %s failed (%s); retry %d of %d in %.2fs",
            method,
            path.split("?", 1)[0],
            reason,
            attempt,
            self._max_retries,
            delay,
        )
        self._sleep(delay)

    def _fail(
        self, status: int, error: Mapping[str, object], request_id: str | None
    ) -> NoReturn:
        message = error.get("message")
        text = self._redact(message) if isinstance(message, str) and message else ""
        code = _opt_str(error.get("code"))
        # A 5xx, and a 429 or lock timeout that outlasted the retries, are Stripe
        # being unable to answer now, not a refusal: "try again" is the truth.
        if status >= 500 or status == 429 or (status == 409 and code == "lock_timeout"):
            raise PaymentProviderUnavailable() from StripeResponseError(
                text or "Stripe failed", status=status, request_id=request_id
            )
        if status in (401, 403):
            # Our key is wrong or lacks a permission: the service is misconfigured,
            # which is no client's fault and nothing to show them.
            logger.error("stripe refused our API key (HTTP %d): %s", status, text)
            raise PaymentProviderUnavailable() from StripeResponseError(
                text or "Stripe refused the key", status=status, request_id=request_id
            )
        raise StripeRequestRejected(
            text or f"Stripe refused the request (HTTP {status})",
            status=status,
            stripe_code=code,
            param=_opt_str(error.get("param")),
            request_id=request_id,
        )

    def _redact(self, text: str) -> str:
        return _KEY_PATTERN.sub("[redacted]", text.replace(self._api_key, "[redacted]"))


class _ConnectionFailure(Exception):
    """Stripe could not be reached: the cause chained to
    ``PaymentProviderUnavailable``."""

    def __init__(self, method: str, path: str, attempts: int, detail: str) -> None:
        super().__init__(
            f"{method} {path.split('?', 1)[0]} failed after {attempts} "
            f"attempt(s): {detail}"
        )


def _should_retry(status: int, code: object, should_retry_header: str | None) -> bool:
    """Retry 5xx, 429 and 409; nothing else. Stripe's ``Stripe-Should-Retry`` has
    the last word on those (it says false when a retry would be a no-op); without
    it, a 409 is retried only for ``lock_timeout`` (an ``idempotency_error`` 409
    would fail the same way again)."""
    if not (status >= 500 or status in (409, 429)):
        return False
    if should_retry_header == "false":
        return False
    if should_retry_header == "true":
        return True
    return status != 409 or code == "lock_timeout"


def _json_object(data: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _error_body(payload: Mapping[str, Any] | None) -> Mapping[str, object]:
    """Stripe's ``{"error": {"type", "code", "message", "param"}}``, or empty."""
    error = (payload or {}).get("error")
    return error if isinstance(error, Mapping) else {}


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
