"""The SDK's StripeClient on our urllib3 HTTP client: what reaches Stripe, its
retries (with one idempotency key), the deadline, and how the SDK's errors
become ours; against a scripted server on loopback."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl

import pytest
import stripe
import urllib3
from stripe._api_version import _ApiVersion

from core.adapters.stripe.client import (
    API_VERSION,
    StripeRequestRejected,
    build_stripe_client,
    call,
)
from core.adapters.stripe.http import BUDGET, Urllib3HttpClient
from core.application.commands.change_org_plan import SEAT_HOLD
from core.application.errors import (
    PaymentProviderRejected,
    PaymentProviderUnavailable,
)
from functions.resources import STRIPE_FUNCTION_TIMEOUT_SECONDS
from local.harness import free_port
from tests.unit.adapters.stripe_stub import API_KEY, Reply, Sleeps, Stub

ROOT = Path(__file__).resolve().parents[3]


def client_for(
    url: str, sleeps: Sleeps | None = None, max_retries: int = 2, **http: Any
) -> stripe.StripeClient:
    return build_stripe_client(
        API_KEY,
        base_url=url,
        max_retries=max_retries,
        http_client=Urllib3HttpClient(sleep=sleeps or Sleeps(), **http),
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


def create_customer(client: stripe.StripeClient, key: str = "k1") -> stripe.Customer:
    return call(
        lambda: client.v1.customers.create(
            {"email": "a@example.com", "metadata": {"user_id": "u1"}},
            {"idempotency_key": key},
        )
    )


def balance(client: stripe.StripeClient) -> stripe.Balance:
    return call(lambda: client.v1.balance.retrieve())


# -- requests -------------------------------------------------------------------------


def test_the_pinned_version_is_the_sdks() -> None:
    assert API_VERSION == _ApiVersion.CURRENT


def test_every_request_carries_the_key_and_the_pinned_version(stub: Stub) -> None:
    client = client_for(stub.url)
    balance(client)
    create_customer(client)
    for seen in stub.seen:
        assert seen.headers["Authorization"] == f"Bearer {API_KEY}"
        assert seen.headers["Stripe-Version"] == API_VERSION


def test_a_post_sends_its_form_body_and_our_idempotency_key(stub: Stub) -> None:
    create_customer(client_for(stub.url), key="customer-u1")
    (seen,) = stub.seen
    assert (seen.method, seen.path) == ("POST", "/v1/customers")
    assert seen.headers["Idempotency-Key"] == "customer-u1"
    assert parse_qsl(seen.body) == [
        ("email", "a@example.com"),
        ("metadata[user_id]", "u1"),
    ]


def test_building_a_client_opens_no_connection(stub: Stub) -> None:
    client = client_for(stub.url)
    time.sleep(0.05)
    assert stub.connections == 0
    balance(client)
    assert stub.connections == 1


def test_requests_reuse_one_pooled_connection(stub: Stub) -> None:
    client = client_for(stub.url)
    for _ in range(3):
        balance(client)
    assert stub.connections == 1


def test_a_pool_handed_in_carries_every_request() -> None:
    class Answer:
        status = 200
        data = b'{"id": "cus_1", "object": "customer"}'
        headers = {"Request-Id": "req_1"}

    calls: list[tuple[str, str, dict[str, Any]]] = []

    class Pool:
        def request(self, method: str, url: str, **kwargs: Any) -> Answer:
            calls.append((method, url, kwargs))
            return Answer()

    client = build_stripe_client(
        API_KEY, base_url="http://stripe.test", pool=cast(Any, Pool())
    )
    assert create_customer(client).id == "cus_1"
    ((method, url, kwargs),) = calls
    assert (method, url) == ("POST", "http://stripe.test/v1/customers")
    assert kwargs["retries"] is False
    assert kwargs["redirect"] is False
    assert kwargs["headers"]["Idempotency-Key"] == "k1"
    assert isinstance(kwargs["timeout"], urllib3.Timeout)


def test_closing_the_client_closes_its_own_pool_but_not_one_handed_in(
    stub: Stub,
) -> None:
    own = Urllib3HttpClient()
    client = build_stripe_client(API_KEY, base_url=stub.url, http_client=own)
    balance(client)
    own.close()
    balance(client)  # a fresh pool, a fresh connection
    assert stub.connections == 2

    class Pool:
        requests = 0

        def request(self, method: str, url: str, **kwargs: Any) -> Any:
            Pool.requests += 1
            return urllib3.PoolManager().request(method, url, **kwargs)

    lent = Urllib3HttpClient(pool=cast(Any, Pool()))
    client = build_stripe_client(API_KEY, base_url=stub.url, http_client=lent)
    lent.close()
    balance(client)
    assert Pool.requests == 1


# -- retries --------------------------------------------------------------------------


def test_a_post_failing_twice_with_500_is_retried_with_the_same_key(
    stub: Stub, sleeps: Sleeps
) -> None:
    stub.script(Reply(500, error("boom")), Reply(500, error("boom")), Reply(200))
    create_customer(client_for(stub.url, sleeps), key="same")
    assert [s.headers["Idempotency-Key"] for s in stub.seen] == ["same"] * 3
    assert len(sleeps.delays) == 2


def test_a_409_idempotency_key_in_use_is_retried_with_the_same_key(
    stub: Stub,
) -> None:
    in_use = {
        "error": {
            "type": "idempotency_error",
            "code": "idempotency_key_in_use",
            "message": "There is currently another in-progress request using "
            "this Stripe-Idempotency-Key.",
        }
    }
    stub.script(Reply(409, in_use), Reply(200, {"id": "cus_7", "object": "customer"}))
    assert create_customer(client_for(stub.url), key="charge-1").id == "cus_7"
    assert [s.headers["Idempotency-Key"] for s in stub.seen] == ["charge-1"] * 2


def test_a_409_that_outlasts_the_retries_is_unavailable_not_rejected(
    stub: Stub,
) -> None:
    stub.script(*[Reply(409, error("in use", "idempotency_key_in_use"))] * 3)
    with pytest.raises(PaymentProviderUnavailable):
        create_customer(client_for(stub.url))
    assert len(stub.seen) == 3


def test_after_the_retries_a_5xx_is_unavailable_with_the_cause_chained(
    stub: Stub,
) -> None:
    stub.script(*[Reply(503, error("down"))] * 3)
    with pytest.raises(PaymentProviderUnavailable) as caught:
        balance(client_for(stub.url))
    assert "HTTP 503" in str(caught.value.__cause__)
    assert caught.value.message == PaymentProviderUnavailable.default_message


def test_a_400_is_not_retried_and_carries_stripes_message_and_code(
    stub: Stub,
) -> None:
    stub.script(Reply(400, error("No such price", "resource_missing", param="price")))
    with pytest.raises(StripeRequestRejected) as caught:
        create_customer(client_for(stub.url))
    assert len(stub.seen) == 1
    assert str(caught.value) == "No such price"
    assert caught.value.stripe_code == "resource_missing"
    assert caught.value.param == "price"
    assert caught.value.status == 400


@pytest.mark.parametrize("status", [402, 404])
def test_no_other_4xx_is_retried(stub: Stub, status: int) -> None:
    stub.script(Reply(status, error("no")))
    with pytest.raises(PaymentProviderRejected):
        balance(client_for(stub.url))
    assert len(stub.seen) == 1


def test_a_refused_key_is_our_misconfiguration_unavailable_and_not_retried(
    stub: Stub,
) -> None:
    stub.script(Reply(401, error("Invalid API Key provided: sk_test_****6789")))
    with pytest.raises(PaymentProviderUnavailable):
        balance(client_for(stub.url))
    assert len(stub.seen) == 1


def test_a_429_is_retried_only_when_stripe_says_so_and_is_unavailable_after(
    stub: Stub,
) -> None:
    stub.script(Reply(429, error("slow down")))
    with pytest.raises(PaymentProviderUnavailable):
        balance(client_for(stub.url))
    assert len(stub.seen) == 1
    stub.script(*[Reply(429, error("slow down"), {"Stripe-Should-Retry": "true"})] * 3)
    with pytest.raises(PaymentProviderUnavailable):
        balance(client_for(stub.url))
    assert len(stub.seen) == 1 + 3


def test_stripe_should_retry_false_stops_a_retry_of_a_5xx(stub: Stub) -> None:
    stub.script(Reply(500, error("no"), {"Stripe-Should-Retry": "false"}))
    with pytest.raises(PaymentProviderUnavailable):
        balance(client_for(stub.url))
    assert len(stub.seen) == 1


def test_zero_retries_means_one_attempt(stub: Stub) -> None:
    stub.script(Reply(500, error("boom")))
    with pytest.raises(PaymentProviderUnavailable):
        balance(client_for(stub.url, max_retries=0))
    assert len(stub.seen) == 1


# -- timeouts, the deadline, unreachable ----------------------------------------------


def test_a_read_timeout_is_retried_with_the_same_key_then_unavailable(
    stub: Stub, sleeps: Sleeps
) -> None:
    stub.script(*[Reply(200, delay=0.5) for _ in range(2)])
    client = client_for(stub.url, sleeps, max_retries=1, write_timeout=0.1)
    started = time.monotonic()
    with pytest.raises(PaymentProviderUnavailable) as caught:
        create_customer(client, key="slow")
    assert time.monotonic() - started < 0.45 * 2
    assert [s.headers["Idempotency-Key"] for s in stub.seen] == ["slow"] * 2
    assert "ReadTimeoutError" in str(caught.value.__cause__)


def test_a_get_reads_for_the_read_timeout_and_a_write_for_the_longer_one() -> None:
    http = Urllib3HttpClient(read_timeout=6, write_timeout=15, connect_timeout=2)
    assert http.read_for("get") == 6
    assert http.read_for("post") == http.read_for("delete") == 15
    # Near the deadline, an attempt gets only what is left, connect and read.
    assert http.timeout_for("post", 3).total == 3


def test_no_retry_starts_that_could_not_end_before_the_deadline(stub: Stub) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    http = Urllib3HttpClient(clock=lambda: now[0], sleep=sleep, budget=2.0)
    stub.script(*[Reply(500, error("boom"))] * 5)
    client = build_stripe_client(
        API_KEY, base_url=stub.url, max_retries=5, http_client=http
    )
    with pytest.raises(PaymentProviderUnavailable):
        balance(client)
    # 0.5 s of backoff leaves 1.5 s; then at least 1 s (doubling, jittered) would
    # leave under the 1 s a read needs: two attempts, not six.
    assert len(stub.seen) == 2
    assert now[0] <= 2.0


def test_the_worst_case_of_one_call_fits_the_functions_timeout() -> None:
    # The deadline bounds attempts, timeouts and backoff together; what is left
    # of the function's timeout is for the rest of the request.
    assert Urllib3HttpClient().budget == BUDGET
    # Checkout's two calls, each at its worst, and 3 s for the rest of the request.
    assert 2 * BUDGET + 3 <= STRIPE_FUNCTION_TIMEOUT_SECONDS


def test_a_plan_changes_seat_hold_outlasts_the_function_that_took_it() -> None:
    # A hold that lapsed while its change could still be applied would let joins
    # past the new plan's seats; tenfold leaves room for clocks that differ.
    assert 10 * timedelta(seconds=STRIPE_FUNCTION_TIMEOUT_SECONDS) <= SEAT_HOLD


def test_an_unreachable_stripe_is_unavailable_after_the_retries(
    sleeps: Sleeps,
) -> None:
    client = client_for(f"http://127.0.0.1:{free_port()}", sleeps)
    with pytest.raises(PaymentProviderUnavailable) as caught:
        create_customer(client)
    assert len(sleeps.delays) == 2
    assert "APIConnectionError" in str(caught.value.__cause__)
    assert caught.value.message == PaymentProviderUnavailable.default_message


def test_a_2xx_that_is_not_json_is_unavailable(stub: Stub) -> None:
    stub.script(Reply(200, body=b"<html>proxy</html>"))
    with pytest.raises(PaymentProviderUnavailable):
        balance(client_for(stub.url))


# -- the key stays secret --------------------------------------------------------------


def test_the_key_never_appears_in_an_error_message(stub: Stub) -> None:
    stub.script(
        Reply(401, error(f"Invalid API Key provided: {API_KEY}")),
        Reply(400, error("Your key sk_live_abcDEF123 is restricted")),
        *[Reply(500, error(f"crash near {API_KEY}"))] * 3,
    )
    client = client_for(stub.url)
    texts = []
    for _ in range(3):
        with pytest.raises(
            (PaymentProviderRejected, PaymentProviderUnavailable)
        ) as caught:
            balance(client)
        texts += [str(caught.value), repr(caught.value.__cause__)]
    assert all(
        API_KEY not in text and "sk_live_abcDEF123" not in text for text in texts
    )
    assert "Invalid API Key provided: [redacted]" in texts[1]


def test_an_empty_or_unsendable_key_or_a_base_url_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="key"):
        build_stripe_client("")
    with pytest.raises(ValueError, match="key"):
        build_stripe_client("sk_test_x\r\nX-Evil: 1")
    with pytest.raises(ValueError, match="base URL"):
        build_stripe_client(API_KEY, base_url="ftp://stripe.example")


# -- without requests or httpx -----------------------------------------------------

WITHOUT_REQUESTS = textwrap.dedent(
    """
    import sys

    class Absent:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in ("requests", "httpx"):
                raise ModuleNotFoundError(name)
            return None

    sys.meta_path.insert(0, Absent())

    class Answer:
        status = 200
        data = b'{"id": "cus_1", "object": "customer"}'
        headers = {}

    class Pool:
        def request(self, method, url, **kwargs):
            return Answer()

    from core.adapters.stripe.provider import build_payment_provider

    provider = build_payment_provider("sk_test_x", pool=Pool())
    assert provider.create_customer("u", "a@example.com", idempotency_key="k") == (
        "cus_1"
    )
    print(sorted(m for m in ("requests", "httpx") if m in sys.modules))
    """
)


def test_the_adapter_works_where_neither_requests_nor_httpx_is_installed() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_REQUESTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
