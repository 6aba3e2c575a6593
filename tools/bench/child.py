"""One fresh process of ``python -m tools.bench``: run as ``python -c <this source>``.

It imports nothing before the clock starts beyond what every Python process already
holds (``sys``, ``os``, ``time``, ``importlib``), so each subject pays for its own
imports. Before anything else it puts a gate at the front of ``sys.meta_path`` that

- makes the packages named in ``STRATA_BENCH_BLOCK`` unimportable (as if not
  installed: the Lambda layer does not ship them), and
- when ``botocore.session`` loads, wraps ``Session.create_client`` so that every
  DynamoDB client gets ``before-call``/``after-call`` hooks that add up the time
  spent inside DynamoDB calls (signing, the HTTP round trip, parsing).

Modes (``argv[1]``):

``cold MODULE RESULT [REQUEST]``
    Times ``import MODULE`` (for a handler module: import and app build), then, if a
    REQUEST file is given (``{"event": ...}``), the first call of ``MODULE.handler``
    (an HTTP function's or a worker's).
    Writes a JSON result to RESULT: CPU and wall time of each, the reply (an HTTP
    reply's status and the start of its body, a worker's whole), the DynamoDB
    calls, their time and the clients made, and the third-party top-level packages
    the process loaded.

``warm RESULT CONFIG``
    Hands over to ``tools.bench.warm`` (which may import what it likes: nothing it
    times is an import).

``warm_real RESULT CONFIG``
    Hands over to ``tools.bench.warm_real``: warm invocations of one function on
    its real adapters (moto), its DynamoDB time measured apart by the gate.

The gate also wraps ``bcrypt.hashpw`` and ``checkpw`` when bcrypt loads, so a
password hash (deliberately slow, at the production cost) is reported apart.
"""

from __future__ import annotations

import importlib
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any

    from local.harness import FakeLambdaContext

# Top-level names that are ours, never "third-party".
OWN_PACKAGES = frozenset(
    {"core", "functions", "local", "stripe_emulator", "tools", "tests"}
)
REFERENCE_PREFIX = "strata_bench_"


class DynamoClock:
    """Adds up the time between ``before-call`` and ``after-call`` of every call made
    by a DynamoDB client created after ``botocore.session`` was patched: wall time
    (mostly the wait for the server) and this process's CPU time (signing, parsing).
    """

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0
        self.calls = 0
        self.clients = 0

    def before(self, context: dict[str, Any], **_: Any) -> None:
        context["strata_bench_started"] = (time.perf_counter(), time.process_time())

    def after(self, context: dict[str, Any], **_: Any) -> None:
        started = context.pop("strata_bench_started", None)
        if started is not None:
            self.wall += time.perf_counter() - started[0]
            self.cpu += time.process_time() - started[1]
            self.calls += 1

    def patch(self, session_module: ModuleType) -> None:
        session_class = session_module.Session
        create_client = session_class.create_client
        clock = self

        def create_hooked_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = create_client(session, *args, **kwargs)
            if client.meta.service_model.service_name == "dynamodb":
                clock.clients += 1
                events = client.meta.events
                events.register("before-call.dynamodb", clock.before)
                events.register("after-call.dynamodb", clock.after)
                events.register("after-call-error.dynamodb", clock.after)
            return client

        session_class.create_client = create_hooked_client


class BcryptClock:
    """Adds up the CPU and wall time inside ``bcrypt.hashpw`` and ``checkpw``: the
    deliberate cost of a password hash, reported apart from a function's own."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def patch(self, module: ModuleType) -> None:
        clock = self
        for name in ("hashpw", "checkpw"):
            original = getattr(module, name)

            def timed(*args: Any, _original: Any = original) -> Any:
                wall, cpu = time.perf_counter(), time.process_time()
                try:
                    return _original(*args)
                finally:
                    clock.wall += time.perf_counter() - wall
                    clock.cpu += time.process_time() - cpu

            setattr(module, name, timed)


class Gate:
    """A meta-path finder that refuses blocked packages and patches botocore (and
    bcrypt)."""

    def __init__(self, blocked: frozenset[str], dynamo: DynamoClock) -> None:
        self.blocked = blocked
        self.dynamo = dynamo
        self.bcrypt = BcryptClock()

    def find_spec(
        self, name: str, path: Any = None, target: Any = None
    ) -> ModuleSpec | None:
        if name.partition(".")[0] in self.blocked:
            raise ModuleNotFoundError(
                f"No module named {name!r} (not in the deployment measured)",
                name=name,
            )
        if name not in ("botocore.session", "bcrypt"):
            return None
        spec: ModuleSpec | None = None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if finder is self or find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None:
            return spec
        loader: Any = spec.loader
        execute = loader.exec_module
        clock: Any = self.dynamo if name == "botocore.session" else self.bcrypt

        def exec_module(module: ModuleType) -> None:
            execute(module)
            clock.patch(module)

        loader.exec_module = exec_module
        return spec


def lambda_context() -> FakeLambdaContext:
    """The context every bench invocation gets. The harness is imported here, once
    the import being timed is over, so a cold start does not pay for it."""
    from local.harness import FakeLambdaContext

    return FakeLambdaContext("strata-bench", memory_limit_in_mb=1024)


def install_gate() -> Gate:
    blocked = frozenset(
        name for name in os.environ.get("STRATA_BENCH_BLOCK", "").split(",") if name
    )
    gate = Gate(blocked, DynamoClock())
    sys.meta_path.insert(0, gate)
    return gate


def third_party(modules: dict[str, Any], baseline: set[str]) -> list[str]:
    """Top-level third-party packages loaded since ``baseline``, importable by name."""
    names = set()
    for name, module in list(modules.items()):
        top = name.partition(".")[0]
        if (
            name in baseline
            or top in baseline
            or top in sys.stdlib_module_names
            or top in OWN_PACKAGES
            or top.startswith(REFERENCE_PREFIX)
            or top == "__main__"
            or top.startswith("_sysconfigdata")  # the stdlib's, under a build name
            or not top.isidentifier()
        ):
            continue
        # Cython's and similar synthetic entries have no spec and cannot be imported.
        top_module = modules.get(top, module if name == top else None)
        if top_module is None or getattr(top_module, "__spec__", None) is None:
            continue
        names.add(top)
    return sorted(names)


def cold(gate: Gate, module_name: str, result_path: str, request_path: str) -> None:
    baseline = set(sys.modules)
    wall, cpu = time.perf_counter(), time.process_time()
    module = importlib.import_module(module_name)
    result: dict[str, Any] = {
        "init_cpu_ms": (time.process_time() - cpu) * 1000,
        "init_wall_ms": (time.perf_counter() - wall) * 1000,
    }
    if request_path:
        import json

        with open(request_path, encoding="utf-8") as file:
            request = json.load(file)
        handler = module.handler
        context = lambda_context()
        wall, cpu = time.perf_counter(), time.process_time()
        reply = handler(request["event"], context)
        result.update(
            first_cpu_ms=(time.process_time() - cpu) * 1000,
            first_wall_ms=(time.perf_counter() - wall) * 1000,
            dynamo_cpu_ms=gate.dynamo.cpu * 1000,
            dynamo_wall_ms=gate.dynamo.wall * 1000,
            bcrypt_cpu_ms=gate.bcrypt.cpu * 1000,
            bcrypt_wall_ms=gate.bcrypt.wall * 1000,
            dynamo_calls=gate.dynamo.calls,
            dynamo_clients=gate.dynamo.clients,
            # An HTTP reply's status and the start of its body; a worker's whole
            # (small) reply.
            reply=(
                {
                    "statusCode": reply["statusCode"],
                    "body": str(reply.get("body") or "")[:300],
                }
                if "statusCode" in reply
                else dict(reply)
            ),
        )
    result["third_party"] = third_party(dict(sys.modules), baseline)
    import json

    with open(result_path, "w", encoding="utf-8") as file:
        json.dump(result, file)


def main() -> None:
    gate = install_gate()
    mode = sys.argv[1]
    if mode == "cold":
        request = sys.argv[4] if len(sys.argv) > 4 else ""
        cold(gate, sys.argv[2], sys.argv[3], request)
    elif mode == "warm":
        warm = importlib.import_module("tools.bench.warm")
        warm.run(sys.argv[2], sys.argv[3])
    elif mode == "warm_real":
        warm_real = importlib.import_module("tools.bench.warm_real")
        warm_real.run(gate, sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
