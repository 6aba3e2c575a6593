"""Warm invocations, in one child process: each handler's own time per request.

Every function's ports are answered by the in-memory fakes of ``tests/fakes.py``,
through a ``Container`` built from them and installed with ``use_container``; the
FastAPI floor is invoked the same way. Subjects take turns in blocks, in a shuffled
order each round, so that noise from other work on the machine falls on all alike;
the garbage of one block is collected before the next. Only the handler call is
timed: preparing the state a call consumes (a fresh session, a new user) and checking
the reply's status are not. The first ``warmup`` calls of each subject are dropped.
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

from functions.catalog import BY_NAME
from functions.runtime.container import Container, use_container
from functions.runtime.settings import Settings
from local.bench.child import LambdaContext
from local.bench.scenarios import Scenarios
from local.roundtrips import http_api_event
from tests.fakes import (
    FakeClock,
    FakeCursorCodec,
    FakePasswordHasher,
    FakeTokenCodec,
    InMemoryLoginAttempts,
    InMemorySessionStore,
    InMemoryUserRepository,
    SequentialIds,
)


def fake_container() -> Container:
    """The composition root over in-memory fakes of every port."""
    clock = FakeClock()
    users = InMemoryUserRepository()
    ports: dict[str, Any] = {
        "settings": Settings(),
        "users": users,
        "sessions": InMemorySessionStore(users),
        "hasher": FakePasswordHasher(),
        "tokens": FakeTokenCodec(clock),
        "cursors": FakeCursorCodec(),
        "clock": clock,
        "ids": SequentialIds(),
        "attempts": InMemoryLoginAttempts(),
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
            "them to local.bench.warm.fake_container"
        )
    return Container(**{name: port for name, port in ports.items() if name in names})


Prepare = Callable[[], tuple[dict[str, Any], int]]


@dataclass
class Subject:
    name: str
    handler: Callable[[dict[str, Any], Any], dict[str, Any]]
    prepare: Prepare
    container: Container | None = None
    rounds: list[list[int]] = field(default_factory=list)

    def invoke(self, context: LambdaContext) -> int:
        """One successful invocation: the CPU nanoseconds of the handler call."""
        event, expect = self.prepare()
        started = time.process_time_ns()
        reply = self.handler(event, context)
        elapsed = time.process_time_ns() - started
        if reply.get("statusCode") != expect:
            raise RuntimeError(
                f"{self.name}: expected {expect}, got "
                f"{reply.get('statusCode')}: {reply.get('body')}"
            )
        return elapsed


def function_subject(name: str) -> Subject:
    container = fake_container()
    scenarios = Scenarios(container, "w")

    def prepare() -> tuple[dict[str, Any], int]:
        call = scenarios.call(name)
        return call.event(), call.expect

    module = import_module(BY_NAME[name].module)
    return Subject(name, module.handler, prepare, container)


def floor_subject(name: str, module_name: str) -> Subject:
    endpoint = BY_NAME["root"]  # GET /: the floor's one route has the same shape

    def prepare() -> tuple[dict[str, Any], int]:
        return http_api_event(endpoint), 200

    return Subject(name, import_module(module_name).handler, prepare)


def measure(subjects: list[Subject], invocations: int, warmup: int, block: int) -> None:
    """``warmup`` dropped calls each, then rounds of ``block`` calls each (until
    ``invocations``), the subjects in a shuffled order every round."""
    context = LambdaContext()
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
