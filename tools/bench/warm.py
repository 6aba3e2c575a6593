"""Warm invocations, in one child process: each handler's own time per request.

Every function's ports (the workers' too) are answered by the in-memory fakes of
``tests/fakes.py``, Stripe by Strata's adapter over the in-process emulator
(``tests/stripe_inprocess.py``, whose work counts in a billing call's time), through
a ``Container`` built from them and installed with ``use_container``; the FastAPI
floor is invoked the same way. Subjects take turns in blocks, in a shuffled order
each round, so that noise from other work on the machine falls on all alike; the
garbage of one block is collected before the next.
Only the handler call is timed: preparing the state a call consumes (a fresh
session, a new user, a queued task) and checking the reply are not. The first
``warmup`` calls of each subject are dropped.
"""

from __future__ import annotations

import gc
import json
import random
import time
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from importlib import import_module
from typing import Any

from core.adapters.stripe.webhooks import StripeWebhookVerifier
from functions.runtime.container import Container, use_container
from functions.runtime.plans import load_plan_catalog
from functions.runtime.settings import Settings
from local.harness import FakeLambdaContext
from tests.fakes import (
    FakeClock,
    FakeCursorCodec,
    FakePasswordHasher,
    FakeTokenCodec,
    SequentialIds,
    storage_fakes,
)
from tests.stripe_inprocess import EmulatedStripe, emulated_stripe
from tools.bench.child import lambda_context
from tools.bench.scenarios import MODULES, Call, Scenarios


def fake_container(stripe: EmulatedStripe | None = None) -> Container:
    """The composition root over in-memory fakes of every port, Stripe the
    emulator in-process (``stripe``'s, else a fresh one); Stripe's webhook
    signatures are checked by the real verifier (HMAC work, no I/O)."""
    clock = FakeClock() if stripe is None else stripe.clock
    settings = Settings()
    catalog = load_plan_catalog(settings)
    if stripe is None:
        stripe = emulated_stripe(clock, catalog)
    ports: dict[str, Any] = {
        "settings": settings,
        **storage_fakes(clock),
        "hasher": FakePasswordHasher(),
        "tokens": FakeTokenCodec(clock),
        "cursors": FakeCursorCodec(),
        "clock": clock,
        "ids": SequentialIds(),
        "catalog": catalog,
        "payments": stripe.provider,
        "webhooks": StripeWebhookVerifier(settings.stripe_webhook_secret_value()),
    }
    names = {f.name for f in fields(Container)}
    required = {
        f.name
        for f in fields(Container)
        if f.default is MISSING and f.default_factory is MISSING
    }
    if required - set(ports):
        raise RuntimeError(
            f"the Container's {sorted(required - set(ports))} have no fake here: add "
            "them to tools.bench.warm.fake_container"
        )
    return Container(**{name: port for name, port in ports.items() if name in names})


Prepare = Callable[[], Call]


@dataclass
class Subject:
    name: str
    handler: Callable[[dict[str, Any], Any], dict[str, Any]]
    prepare: Prepare
    container: Container | None = None
    rounds: list[list[int]] = field(default_factory=list)

    def invoke(self, context: FakeLambdaContext) -> int:
        """One successful invocation: the CPU nanoseconds of the handler call."""
        call = self.prepare()
        event = call.event()
        started = time.process_time_ns()
        reply = self.handler(event, context)
        elapsed = time.process_time_ns() - started
        failure = call.failure(reply)
        if failure is not None:
            raise RuntimeError(f"{self.name}: {failure}")
        return elapsed


def emulated_pay(stripe: EmulatedStripe) -> Callable[[str], str]:
    """Pay a checkout at the in-process emulator; the subscription it made."""

    def pay(url: str) -> str:
        return stripe.pay_checkout(url).id

    return pay


def function_subject(name: str) -> Subject:
    stripe = emulated_stripe(FakeClock(), load_plan_catalog(Settings()))
    container = fake_container(stripe)
    scenarios = Scenarios(container, "w", emulated_pay(stripe))

    def prepare() -> Call:
        return scenarios.call(name)

    module = import_module(MODULES[name])
    return Subject(name, module.handler, prepare, container)


def floor_subject(name: str, module_name: str) -> Subject:
    # GET /: the floor's one route has the same shape as the root function's.
    def prepare() -> Call:
        return Call("root", 200)

    return Subject(name, import_module(module_name).handler, prepare)


def measure(subjects: list[Subject], invocations: int, warmup: int, block: int) -> None:
    """``warmup`` dropped calls each, then rounds of ``block`` calls each (until
    ``invocations``), the subjects in a shuffled order every round."""
    context = lambda_context()
    for subject in subjects:
        use_container(subject.container)
        for _ in range(warmup):
            subject.invoke(context)
    shuffle = random.Random(20250101)  # noqa: S311 (an order, not a secret)
    for done in range(0, invocations, block):
        order = list(subjects)
        shuffle.shuffle(order)
        for subject in order:
            use_container(subject.container)
            gc.collect()
            calls = min(block, invocations - done)
            subject.rounds.append([subject.invoke(context) for _ in range(calls)])
    use_container(None)


def run(result_path: str, config_path: str) -> None:
    """Read the config, measure, write ``{name: [[nanoseconds, ...], ...]}``."""
    with open(config_path, encoding="utf-8") as file:
        config = json.load(file)
    subjects = [floor_subject(config["floor_name"], config["floor_module"])]
    subjects += [function_subject(name) for name in config["functions"]]
    measure(subjects, config["invocations"], config["warmup"], config["block"])
    with open(result_path, "w", encoding="utf-8") as file:
        json.dump({subject.name: subject.rounds for subject in subjects}, file)
