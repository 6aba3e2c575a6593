"""Webhook delivery: one background thread posts every event, in creation order,
signed as Stripe signs (``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>">``), retrying a failed attempt a few times before giving up on it.

``t`` is the emulator's clock (real time plus the offset ``advance`` added), the
time the local API's verifier also reads through the offset file; until the clock
is moved it is the real time, as with Stripe.

A delivery is *held* until the API request that caused it has been answered: the
local API calls the emulator, and the emulator calls the API back, so a webhook
must never overtake the answer to the call that caused it.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_RETRY_DELAYS = (0.5, 1.0, 2.0)
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` value for ``body`` signed at ``timestamp`` (default:
    the real time now)."""
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


@dataclass
class Attempt:
    at: float
    status: int | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"at": int(self.at), "status": self.status, "error": self.error}


@dataclass(eq=False)
class Delivery:
    event_id: str
    body: bytes
    released: bool
    # pending, delivered, failed, not_sent (no webhook URL) or dropped (reset)
    status: str = "pending"
    attempts: list[Attempt] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "attempts": [a.as_dict() for a in self.attempts],
        }


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # Stripe does not follow redirects: a 3xx is a failed delivery


class WebhookSender:
    def __init__(
        self,
        url: str | None,
        secret: str,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        timeout: float = 10.0,
        now: Callable[[], int] | None = None,
    ) -> None:
        self.url = url
        # The signing time: the emulator's clock, which the local API's verifier
        # shares through the offset file (real time when the clock never moved).
        self._now = now or (lambda: int(time.time()))
        self.secret = secret
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self._queue: deque[Delivery] = deque()
        self._log: dict[str, list[Delivery]] = {}
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._enqueued = 0
        self._finished = 0
        # Loopback only: an HTTP(S)_PROXY in the environment must not intercept.
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), _NoRedirects()
        )
        self._thread = threading.Thread(
            target=self._run, name="stripe-emulator-webhooks", daemon=True
        )

    # --- the queue --------------------------------------------------------------

    def enqueue(self, event_id: str, body: bytes, *, released: bool) -> Delivery:
        delivery = Delivery(event_id, body, released)
        with self._cond:
            self._log.setdefault(event_id, []).append(delivery)
            self._enqueued += 1
            if self.url is None:
                delivery.status = "not_sent"
                self._finished += 1
            else:
                self._queue.append(delivery)
            self._cond.notify_all()
        return delivery

    def release(self, deliveries: Iterable[Delivery]) -> None:
        with self._cond:
            for delivery in deliveries:
                delivery.released = True
            self._cond.notify_all()

    def deliveries(self, event_id: str) -> list[Delivery]:
        with self._cond:
            return list(self._log.get(event_id, []))

    def pending(self) -> int:
        with self._cond:
            return self._enqueued - self._finished

    def flush(self, timeout: float) -> bool:
        """Wait until every delivery queued so far is delivered or has failed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._enqueued
            while self._finished < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def clear(self) -> None:
        """Forget the log and drop what is queued (a delivery in flight ends)."""
        with self._cond:
            keep = [d for d in self._queue if d.status == "sending"]
            for delivery in self._queue:
                if delivery.status == "pending":
                    delivery.status = "dropped"
                    self._finished += 1
            self._queue = deque(keep)
            self._log = {d.event_id: [d] for d in keep}
            self._cond.notify_all()

    # --- the thread -------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=self.timeout + 1)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping.is_set() and not (
                    self._queue and self._queue[0].released
                ):
                    self._cond.wait()
                if self._stopping.is_set():
                    return
                delivery = self._queue[0]
                delivery.status = "sending"
            delivered = self._deliver(delivery)
            with self._cond:
                delivery.status = "delivered" if delivered else "failed"
                if self._queue and self._queue[0] is delivery:
                    self._queue.popleft()
                self._finished += 1
                self._cond.notify_all()

    def _deliver(self, delivery: Delivery) -> bool:
        delays = (0.0, *self.retry_delays)
        for delay in delays:
            if delay and self._stopping.wait(delay):
                return False
            status, error = self._post(delivery.body)
            with self._cond:
                delivery.attempts.append(Attempt(time.time(), status, error))
            if status is not None and 200 <= status < 300:
                return True
        return False

    def _post(self, body: bytes) -> tuple[int | None, str | None]:
        assert self.url is not None
        request = urllib.request.Request(  # noqa: S310 (a configured http URL)
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "*/*; q=0.5, application/xml",
                "User-Agent": USER_AGENT,
                "Stripe-Signature": signature_header(self.secret, body, self._now()),
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read()
                return int(response.status), None
        except urllib.error.HTTPError as exc:
            exc.read()
            return int(exc.code), f"HTTP {exc.code}"
        except (OSError, urllib.error.URLError) as exc:
            return None, f"{type(exc).__name__}: {exc}"
