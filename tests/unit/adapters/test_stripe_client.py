"""StripeClient: encoding checked against stripe-python's own encoder, and
retries, timeouts, headers and errors against a small HTTP server on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from stripe._api_version import _ApiVersion
from stripe._encode import _api_encode

from core.adapters.stripe.client import (
    API_VERSION,
    StripeClient,
    StripeRequestRejected,
    StripeResponseError,
    encode_form,
)
from core.application.errors import (
    PaymentProviderRejected,
    PaymentProviderUnavailable,
)
from local.harness import free_port

API_KEY = "sk_test_client_unit_0123456789"


# -- form encoding --------------------------------------------------------------------


def stripe_python_encoding(params: dict[str, Any]) -> str:
    """How stripe-python 16 encodes a request body (see its _api_requestor)."""
    return urlencode(list(_api_encode(params)))


ENCODING_CASES: list[dict[str, Any]] = [
    {"email": "a@example.com", "metadata": {"user_id": "u1"}},
    {
        "mode": "subscription",
        "line_items": [{"price": "price_1", "quantity": 1}],
        "subscription_data": {
            "metadata": {"user_id": "u1"},
            "trial_period_days": 14,
        },
        "success_url": "https://app.example.com/ok?session={CHECKOUT_SESSION_ID}",
    },
    {"expand": ["latest_invoice", "customer"], "limit": 3},
    {"cancel_at_period_end": True, "off": False},
    {"payment_settings": {"payment_method_types": ["customer_balance"]}},
    {"a": None, "b": {"c": None, "d": "x"}, "e": [{"f": None, "g": False}]},
    {"nested": [[1, 2], ["x"]], "deep": {"a": {"b": {"c": [{"d": True}]}}}},
    {"unicode": "zoë & ünïcode=ok", "empty": ""},
    {"tuple": ("a", "b")},
]


@pytest.mark.parametrize("params", ENCODING_CASES)
def test_the_form_encoding_matches_stripe_pythons(params: dict[str, Any]) -> None:
    assert urlencode(encode_form(params)) == stripe_python_encoding(params)


def test_nested_keys_are_bracketed_and_booleans_lower_case() -> None:
    pairs = encode_form(
        {
            "metadata": {"user_id": "x"},
            "line_items": [{"price": "p"}],
            "expand": ["latest_invoice"],
            "cancel_at_period_end": False,
            "skipped": None,
        }
    )
    assert pairs == [
        ("metadata[user_id]", "x"),
        ("line_items[0][price]", "p"),
        ("expand[0]", "latest_invoice"),
        ("cancel_at_period_end", "false"),
    ]


@pytest.mark.parametrize("value", [1.5, object(), b"bytes", {1, 2}])
def test_values_stripe_would_misread_are_refused_before_sending(value: object) -> None:
    with pytest.raises(TypeError):
        encode_form({"x": value})


def test_the_pinned_version_is_stripe_pythons() -> None:
    assert API_VERSION == _ApiVersion.CURRENT == "2026-10-28.endive"


# -- a scripted server ----------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=lambda: {"id": "obj_1", "object": "thing"})
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: str


class Stub:
    """Answers each request with the next scripted reply (then 200s)."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.seen: list[Seen] = []
        self.connections = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                with stub._lock:
                    stub.seen.append(
                        Seen(self.command, self.path, dict(self.headers), body)
                    )
                    reply = stub.replies.pop(0) if stub.replies else Reply()
                if reply.delay:
                    time.sleep(reply.delay)
                raw = (
                    reply.body
                    if isinstance(reply.body, bytes)
                    else json.dumps(reply.body).encode()
                )
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.send_header("Request-Id", f"req_{len(stub.seen)}")
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting: that was the point

            do_GET = _serve
            do_POST = _serve

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                with stub._lock:
                    stub.connections += 1
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = Stub()
    yield server
    server.stop()


@dataclass
class Sleeps:
    delays: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def client_for(url: str, sleeps: Sleeps | None = None, **options: Any) -> StripeClient:
    return StripeClient(
        API_KEY, base_url=url, sleep=sleeps or Sleeps(), rand=lambda: 0.0, **options
    )


def error(message: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "error": {
            "type": "invalid_request_error",
            "message": message,
            "code": code,
            **extra,
        }
    }


# -- requests -------------------------------------------------------------------------


def test_every_request_carries_the_key_and_the_pinned_version(stub: Stub) -> None:
    client = client_for(stub.url)
    client.get("/v1/subscriptions/sub_1")
    client.post("/v1/customers", {"email": "a@example.com"}, idempotency_key="k1")
    for seen in stub.seen:
        assert seen.headers["Authorization"] == f"Bearer {API_KEY}"
        assert seen.headers["Stripe-Version"] == API_VERSION


def test_a_post_sends_its_form_body_and_idempotency_key(stub: Stub) -> None:
    client_for(stub.url).post(
        "/v1/customers",
        {"email": "a@example.com", "metadata": {"user_id": "u1"}},
        idempotency_key="customer-u1",
    )
    (seen,) = stub.seen
    assert (seen.method, seen.path) == ("POST", "/v1/customers")
    assert seen.headers["Idempotency-Key"] == "customer-u1"
    assert seen.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(seen.body) == [
        ("email", "a@example.com"),
        ("metadata[user_id]", "u1"),
    ]


def test_a_get_sends_its_params_in_the_query_and_no_idempotency_key(
    stub: Stub,
) -> None:
    client_for(stub.url).get(
        "/v1/invoices", {"customer": "cus_1", "limit": 2, "starting_after": None}
    )
    (seen,) = stub.seen
    assert seen.path == "/v1/invoices?customer=cus_1&limit=2"
    assert "Idempotency-Key" not in seen.headers


def test_the_parsed_json_object_is_returned(stub: Stub) -> None:
    stub.script(Reply(body={"id": "cus_9", "object": "customer", "nested": {"a": 1}}))
    assert client_for(stub.url).get("/v1/customers/cus_9") == {
        "id": "cus_9",
        "object": "customer",
        "nested": {"a": 1},
    }


@pytest.mark.parametrize("key", ["", "a" * 256, "has space", "new\nline", "é"])
def test_an_unusable_idempotency_key_is_refused_before_sending(
    stub: Stub, key: str
) -> None:
    with pytest.raises(ValueError, match="idempotency key"):
        client_for(stub.url).post("/v1/customers", {}, idempotency_key=key)
    assert stub.seen == []


def test_building_a_client_opens_no_connection(stub: Stub) -> None:
    client = client_for(stub.url)
    time.sleep(0.05)
    assert stub.connections == 0
    client.get("/v1/balance")
    assert stub.connections == 1


def test_requests_reuse_one_pooled_connection(stub: Stub) -> None:
    client = client_for(stub.url)
    for _ in range(3):
        client.get("/v1/balance")
    assert stub.connections == 1


# -- retries --------------------------------------------------------------------------


def test_a_post_failing_twice_with_500_is_retried_with_the_same_key(
    stub: Stub, sleeps: Sleeps
) -> None:
    stub.script(Reply(500, error("boom")), Reply(500, error("boom")), Reply(200))
    result = client_for(stub.url, sleeps).post(
        "/v1/subscriptions", {"customer": "cus_1"}, idempotency_key="sub-u1"
    )
    assert result["id"] == "obj_1"
    assert len(stub.seen) == 3
    assert {s.headers["Idempotency-Key"] for s in stub.seen} == {"sub-u1"}
    assert {s.body for s in stub.seen} == {"customer=cus_1"}


def test_the_backoff_doubles_and_is_jittered_into_half_to_whole(
    stub: Stub, sleeps: Sleeps
) -> None:
    stub.script(*[Reply(503, error("down")) for _ in range(4)])
    client = StripeClient(
        API_KEY,
        base_url=stub.url,
        max_retries=3,
        initial_delay=1.0,
        max_delay=3.0,
        sleep=sleeps,
        rand=lambda: 0.5,
    )
    with pytest.raises(PaymentProviderUnavailable):
        client.get("/v1/balance")
    # 1, 2, then 4 capped at 3; each scaled by 0.5 + 0.5 * 0.5.
    assert sleeps.delays == [0.75, 1.5, 2.25]


def test_after_the_retries_a_5xx_is_unavailable_with_the_cause_chained(
    stub: Stub, sleeps: Sleeps
) -> None:
    stub.script(*[Reply(502, error("bad gateway")) for _ in range(3)])
    with pytest.raises(PaymentProviderUnavailable) as caught:
        client_for(stub.url, sleeps).get("/v1/balance")
    assert len(stub.seen) == 3
    cause = caught.value.__cause__
    assert isinstance(cause, StripeResponseError)
    assert cause.status == 502
    assert cause.request_id == "req_3"


def test_a_400_is_not_retried_and_carries_stripes_message(
    stub: Stub, sleeps: Sleeps
) -> None:
    stub.script(
        Reply(400, error("No such price: 'price_x'", "resource_missing", param="price"))
    )
    with pytest.raises(PaymentProviderRejected) as caught:
        client_for(stub.url, sleeps).post("/v1/subscriptions", {}, idempotency_key="k")
    assert len(stub.seen) == 1
    assert sleeps.delays == []
    rejected = caught.value
    assert isinstance(rejected, StripeRequestRejected)
    assert rejected.message == "No such price: 'price_x'"
    assert (rejected.status, rejected.stripe_code, rejected.param) == (
        400,
        "resource_missing",
        "price",
    )
    assert rejected.code == "payment_provider_rejected"


@pytest.mark.parametrize("status", [400, 402, 404])
def test_no_other_4xx_is_retried(stub: Stub, status: int) -> None:
    stub.script(Reply(status, error("no")))
    with pytest.raises(PaymentProviderRejected):
        client_for(stub.url).get("/v1/balance")
    assert len(stub.seen) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_our_misconfiguration_unavailable_and_not_retried(
    stub: Stub, status: int
) -> None:
    stub.script(Reply(status, error("Invalid API Key provided: sk_live_****abcd")))

    with pytest.raises(PaymentProviderUnavailable) as raised:
        client_for(stub.url).get("/v1/balance")

    assert len(stub.seen) == 1
    # Nothing of Stripe's text (which quotes the key) reaches a client's answer.
    assert "abcd" not in raised.value.message


def test_a_4xx_is_not_retried_even_if_stripe_should_retry_says_true(
    stub: Stub,
) -> None:
    stub.script(Reply(400, error("no"), {"Stripe-Should-Retry": "true"}))
    with pytest.raises(PaymentProviderRejected):
        client_for(stub.url).get("/v1/balance")
    assert len(stub.seen) == 1


def test_a_429_is_retried(stub: Stub) -> None:
    stub.script(Reply(429, error("slow down", "rate_limit")), Reply(200))
    assert client_for(stub.url).get("/v1/balance")["id"] == "obj_1"
    assert len(stub.seen) == 2


def test_a_409_lock_timeout_is_retried(stub: Stub) -> None:
    stub.script(Reply(409, error("locked", "lock_timeout")), Reply(200))
    client_for(stub.url).post("/v1/subscriptions/sub_1", {}, idempotency_key="k")
    assert len(stub.seen) == 2


def test_a_409_idempotency_conflict_is_not_retried(stub: Stub) -> None:
    stub.script(
        Reply(409, error("Keys for idempotent requests...", "idempotency_key_in_use"))
    )
    with pytest.raises(PaymentProviderRejected):
        client_for(stub.url).post("/v1/customers", {}, idempotency_key="k")
    assert len(stub.seen) == 1


def test_stripe_should_retry_false_stops_a_retry_of_a_5xx(stub: Stub) -> None:
    stub.script(Reply(500, error("boom"), {"Stripe-Should-Retry": "false"}))
    with pytest.raises(PaymentProviderUnavailable):
        client_for(stub.url).post("/v1/customers", {}, idempotency_key="k")
    assert len(stub.seen) == 1


def test_stripe_should_retry_true_retries_a_409_of_any_code(stub: Stub) -> None:
    stub.script(Reply(409, error("busy", "other"), {"Stripe-Should-Retry": "true"}))
    client_for(stub.url).post("/v1/customers", {}, idempotency_key="k")
    assert len(stub.seen) == 2


def test_a_429_that_outlasts_the_retries_is_unavailable_not_rejected(
    stub: Stub,
) -> None:
    stub.script(*[Reply(429, error("slow down", "rate_limit")) for _ in range(3)])
    with pytest.raises(PaymentProviderUnavailable):
        client_for(stub.url).get("/v1/balance")
    assert len(stub.seen) == 3


def test_zero_retries_means_one_attempt(stub: Stub) -> None:
    stub.script(Reply(500, error("boom")), Reply(200))
    with pytest.raises(PaymentProviderUnavailable):
        client_for(stub.url, max_retries=0).get("/v1/balance")
    assert len(stub.seen) == 1


# -- timeouts and unreachable ----------------------------------------------------------


def test_a_read_timeout_is_retried_then_unavailable(stub: Stub, sleeps: Sleeps) -> None:
    stub.script(*[Reply(200, delay=0.5) for _ in range(3)])
    client = client_for(stub.url, sleeps, read_timeout=0.1, max_retries=1)
    started = time.monotonic()
    with pytest.raises(PaymentProviderUnavailable) as caught:
        client.post("/v1/customers", {}, idempotency_key="slow")
    assert time.monotonic() - started < 0.45 * 2
    assert len(stub.seen) == 2
    assert {s.headers["Idempotency-Key"] for s in stub.seen} == {"slow"}
    assert "ReadTimeout" in str(caught.value.__cause__)


def test_a_slow_answer_within_the_read_timeout_succeeds(stub: Stub) -> None:
    stub.script(Reply(200, delay=0.1))
    assert client_for(stub.url, read_timeout=2).get("/v1/balance")["id"] == "obj_1"


def test_an_unreachable_stripe_is_unavailable_after_the_retries(
    sleeps: Sleeps,
) -> None:
    client = client_for(f"http://127.0.0.1:{free_port()}", sleeps)
    with pytest.raises(PaymentProviderUnavailable) as caught:
        client.post("/v1/customers", {}, idempotency_key="k")
    assert len(sleeps.delays) == 2
    assert caught.value.__cause__ is not None
    assert "3 attempt(s)" in str(caught.value.__cause__)
    # What reaches an API client is the generic message, not the network detail.
    assert caught.value.message == PaymentProviderUnavailable.default_message


def test_a_2xx_that_is_not_a_json_object_is_unavailable(stub: Stub) -> None:
    stub.script(Reply(200, body=b"<html>proxy</html>"), Reply(200, body=[1, 2]))
    client = client_for(stub.url)
    for _ in range(2):
        with pytest.raises(PaymentProviderUnavailable):
            client.get("/v1/balance")


def test_a_4xx_without_a_stripe_error_body_is_still_rejected(stub: Stub) -> None:
    stub.script(Reply(404, body=b"not found"))
    with pytest.raises(PaymentProviderRejected, match="HTTP 404"):
        client_for(stub.url).get("/v1/nothing")


# -- the key stays secret --------------------------------------------------------------


def test_the_key_never_appears_in_an_error_message(stub: Stub) -> None:
    stub.script(
        Reply(401, error(f"Invalid API Key provided: {API_KEY}")),
        Reply(400, error("Your key sk_live_abcDEF123 is restricted")),
        Reply(500, error(f"crash near {API_KEY}")),
        Reply(500, error(f"crash near {API_KEY}")),
        Reply(500, error(f"crash near {API_KEY}")),
    )
    client = client_for(stub.url)
    texts = []
    for _ in range(3):
        with pytest.raises(
            (PaymentProviderRejected, PaymentProviderUnavailable)
        ) as caught:
            client.get("/v1/balance")
        texts += [str(caught.value), str(caught.value.__cause__)]
    assert all(
        API_KEY not in text and "sk_live_abcDEF123" not in text for text in texts
    )
    # A refused key is ours to fix: the client sees "unavailable", the log (the
    # chained cause) Stripe's words with the key blanked out.
    assert "unavailable" in texts[0]
    assert "Invalid API Key provided: [redacted]" in texts[1]


def test_an_empty_or_unsendable_key_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="empty"):
        StripeClient("")
    with pytest.raises(ValueError, match="header"):
        StripeClient("sk_test_x\r\nX-Evil: 1")


def test_a_base_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="base URL"):
        StripeClient(API_KEY, base_url="ftp://stripe.example")
