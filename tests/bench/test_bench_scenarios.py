"""The bench's request for every catalog function succeeds, sent once in process.

``make bench`` times these requests in fresh processes, and the smoke run
(test_bench_smoke.py) times two of them; this proves each of the others is still a
successful request of its function, at the cost of one handler call each.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import pytest

from functions.catalog import BY_NAME, ENDPOINTS, WORKERS, WORKERS_BY_NAME
from local.harness import FakeLambdaContext
from tools.bench.scenarios import Scenarios

NAMES = [e.name for e in ENDPOINTS] + [w.name for w in WORKERS]


@pytest.mark.parametrize("name", NAMES)
def test_the_bench_request_of_every_function_is_a_success(
    name: str, container: Any, stripe: Any
) -> None:
    def pay(url: str) -> str:
        """Pay on the emulator's Checkout page; the subscription made."""
        stripe.pay(url)
        return str(
            stripe.emulator.state.sessions[url.rsplit("/", 1)[1]]["subscription"]
        )

    scenarios = Scenarios(container, "t", pay)
    call = scenarios.call(name)
    entry = BY_NAME.get(name) or WORKERS_BY_NAME[name]

    reply = import_module(entry.module).handler(call.event(), FakeLambdaContext())

    assert call.failure(reply) is None


@pytest.mark.parametrize("name", ["password_reset", "signup"])
def test_the_bench_request_succeeds_past_the_per_client_limits_as_the_warm_run_sends_it(
    name: str, container: Any
) -> None:
    # The warm run sends hundreds in a row on one container whose clock stands
    # still: more than one client's hourly emails.
    scenarios = Scenarios(container, "r")
    handler = import_module(BY_NAME[name].module).handler
    settings = container.settings
    runs = settings.email_per_client + 5

    for _ in range(runs):
        call = scenarios.call(name)
        assert call.failure(handler(call.event(), FakeLambdaContext())) is None
