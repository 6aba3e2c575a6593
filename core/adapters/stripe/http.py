"""The stripe SDK's HTTP client on urllib3.

Why not the SDK's own: it picks ``requests`` (or ``httpx`` for async) when they
are importable, and neither is in the Lambda layer nor worth its import time;
urllib3 is, and botocore has already imported it. Handing ``StripeClient`` this
client means the SDK never builds one of its own.

Retries are the SDK's decision (``HTTPClient._should_retry``: connection errors
and timeouts, every 409 including ``idempotency_key_in_use``, 5xx, and
Stripe's ``Stripe-Should-Retry`` header) with the SDK's backoff
(``_sleep_time_seconds``: 0.5 s doubling to 5 s, jittered to half-to-whole,
never under 0.5 s); the headers, idempotency key included, are the same on every
attempt. What this client adds is a deadline: every request and its retries end
within ``budget`` seconds, because each attempt's timeouts are cut to what is
left and no retry starts that could not finish in time. That makes the worst
case a number (``budget``) rather than a product of settings, which is what a
Lambda's timeout has to cover.

Timeouts: a GET reads for ``read_timeout`` seconds; a write (POST, DELETE) for
``write_timeout``, longer, since a write may charge a card or finalize an invoice
and a timed-out write that is retried finds the first one still running
(``409 idempotency_key_in_use``, retried again).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

import urllib3
from stripe import HTTPClient
from stripe._error import APIConnectionError
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ProtocolError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 6.0
WRITE_TIMEOUT = 10.0
# The longest a request may take, retries and backoff included: an endpoint makes
# at most two Stripe calls (its declared ``stripe=``), and both must end inside the
# function's timeout (``functions.resources.STRIPE_FUNCTION_TIMEOUT_SECONDS``).
BUDGET = 12.0
# A retry needs at least this long to read an answer to be worth starting.
MIN_READ = 1.0

logger = logging.getLogger("strata.stripe")


class Response(Protocol):
    @property
    def status(self) -> int: ...

    @property
    def data(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


class Pool(Protocol):
    """What the client needs of a urllib3 ``PoolManager``. Tests hand in an
    object that answers in-process (the Stripe emulator's ``handle``)."""

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = ...,
        headers: Mapping[str, str] | None = ...,
        timeout: urllib3.Timeout = ...,
        retries: bool = ...,
        redirect: bool = ...,
    ) -> Response: ...


class Urllib3HttpClient(HTTPClient):
    """``stripe.HTTPClient`` over one lazily made urllib3 pool; thread-safe.

    ``pool`` replaces the ``PoolManager`` (for tests); ``clock`` and ``sleep``
    exist for tests too.
    """

    name = "urllib3"

    def __init__(
        self,
        *,
        pool: Pool | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        write_timeout: float = WRITE_TIMEOUT,
        budget: float = BUDGET,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if min(connect_timeout, read_timeout, write_timeout, budget) <= 0:
            raise ValueError("timeouts and the budget are positive")
        super().__init__()
        self._pool = pool
        self._owns_pool = pool is None
        self._lock = threading.Lock()
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.write_timeout = write_timeout
        self.budget = budget
        self._clock = clock
        self._sleep = sleep

    # -- what the SDK calls -----------------------------------------------------------

    def request_with_retries(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        post_data: Any = None,
        max_network_retries: int | None = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        """The SDK's retry loop, within ``budget``: a retry that could not get
        ``MIN_READ`` seconds of reading before the deadline is not started, and
        the last answer (or connection error) stands."""
        deadline = self._clock() + self.budget
        retries = 0
        while True:
            response: tuple[str, int, Mapping[str, str]] | None = None
            error: APIConnectionError | None = None
            try:
                response = self._attempt(method, url, headers, post_data, deadline)
            except APIConnectionError as exc:
                error = exc
            if self._should_retry(response, error, retries, max_network_retries):
                pause = self._sleep_time_seconds(retries + 1)
                if deadline - self._clock() - pause >= MIN_READ:
                    retries += 1
                    logger.warning(
                        "stripe %s %s failed (%s); retry %d in %.2fs",
                        method.upper(),
                        urlsplit(url).path,
                        f"HTTP {response[1]}" if response else type(error).__name__,
                        retries,
                        pause,
                    )
                    self._sleep(pause)
                    continue
            if response is not None:
                return response
            assert error is not None
            raise error

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        """One attempt, within the budget."""
        return self._attempt(
            method, url, headers or {}, post_data, self._clock() + self.budget
        )

    def request_stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Strata makes no streaming request to Stripe")

    def close(self) -> None:
        """Close the connections of the pool this client made (a pool handed in
        is its owner's to close)."""
        with self._lock:
            if not self._owns_pool:
                return
            pool, self._pool = self._pool, None
        if isinstance(pool, urllib3.PoolManager):
            pool.clear()

    # -- internals --------------------------------------------------------------------

    def read_for(self, method: str) -> float:
        """How long an attempt of ``method`` waits for Stripe's answer."""
        return self.read_timeout if method.lower() == "get" else self.write_timeout

    def timeout_for(self, method: str, left: float) -> urllib3.Timeout:
        """The attempt's timeouts: the method's, and ``left`` seconds in all
        (urllib3's ``total`` caps connect and read together)."""
        return urllib3.Timeout(
            connect=self.connect_timeout,
            read=self.read_for(method),
            total=max(left, 0.001),
        )

    def _pool_manager(self) -> Pool:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    # Retries and redirects are the SDK's (and a redirect from
                    # the API would be a misconfigured base URL, not a result).
                    self._pool = cast(
                        Pool,
                        urllib3.PoolManager(num_pools=2, maxsize=10, retries=False),
                    )
        return self._pool

    def _attempt(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        post_data: Any,
        deadline: float,
    ) -> tuple[str, int, Mapping[str, str]]:
        body = post_data.encode() if isinstance(post_data, str) else post_data
        left = deadline - self._clock()
        try:
            answer = self._pool_manager().request(
                method.upper(),
                url,
                body=body,
                headers=dict(headers),
                timeout=self.timeout_for(method, left),
                retries=False,
                redirect=False,
            )
        except Urllib3Error as exc:
            # A refused, reset or timed-out connection may heal; a certificate
            # error will not. Retrying a write whose answer was lost is safe:
            # the idempotency key, the same on every attempt, replays the first.
            retry = isinstance(exc, Urllib3Timeout | ProtocolError)
            raise APIConnectionError(  # type: ignore[no-untyped-call]
                f"Could not reach Stripe ({type(exc).__name__}): {exc}",
                should_retry=retry,
            ) from exc
        # The SDK reads headers case-insensitively ("Request-Id",
        # "stripe-should-retry"), as urllib3's HTTPHeaderDict answers.
        # The body as text, as the SDK's own clients hand it over.
        return (
            bytes(answer.data).decode("utf-8", "replace"),
            int(answer.status),
            urllib3.HTTPHeaderDict(dict(answer.headers)),
        )
