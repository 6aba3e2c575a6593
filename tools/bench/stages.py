"""One fresh process of ``python -m tools.bench.profile``: run as ``python -c <this
source> MODULE REQUEST RESULT [INVOCATIONS]``.

Where a function's cold start and warm call go, in CPU time of this process:

1. ``shared imports``: the third-party packages the naive stack imports as well
   (FastAPI, Mangum, pydantic, botocore, pynamodb, PyJWT, Powertools' Logger and
   Metrics), imported first so the stages below count only what is ours on top;
2. ``runtime import``: ``functions.runtime.api`` (what every endpoint module
   imports: auth, the container module, schemas, problems, settings, and the
   ``core`` modules they import);
3. ``handler module``: the rest of the handler module's import, of which
   ``build_container`` (settings, secrets, adapters) and, inside it, ``DynamoDB
   client`` (``bind_tables``: the models' shared botocore client) and ``secrets
   read``;
4. ``first request``, then ``warm call``: the median over ``INVOCATIONS`` calls of
   the handler, and of Mangum alone (``handler.inner``: without the invocation's log
   scope and request line), each less the CPU inside DynamoDB calls (botocore's
   before-call to after-call, as ``tools.bench.child`` measures it) and bcrypt's.

Stage figures are nested, not additive: ``DynamoDB client`` is part of
``build_container``, which is part of ``handler module``. Only the worker-free HTTP
functions' warm calls are timed (a worker's event is used up by its first call).
"""

from __future__ import annotations

import importlib
import json
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# What the naive stack imports too (``tools.bench.references``): paid alike.
SHARED = (
    "fastapi",
    "mangum",
    "pydantic",
    "botocore.session",
    "botocore.client",
    "pynamodb.models",
    "jwt",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
)


class Blocked:
    """Makes the packages ``STRATA_BENCH_BLOCK`` names unimportable, as
    ``tools.bench.child`` does: the Lambda layer does not ship them."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


class Stages:
    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    def timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function``, adding its CPU time to the stage ``name``."""

        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent = (time.process_time() - started) * 1000
                self.ms[name] = self.ms.get(name, 0.0) + spent

        return run


class DynamoCpu:
    """CPU inside DynamoDB calls, from botocore's before-call to after-call, and
    inside bcrypt's ``hashpw`` and ``checkpw`` (a deliberate cost the bench
    reports apart)."""

    def __init__(self) -> None:
        self.ns = 0

    def before(self, context: dict[str, Any], **_: Any) -> None:
        context["strata_stage_started"] = time.process_time_ns()

    def after(self, context: dict[str, Any], **_: Any) -> None:
        started = context.pop("strata_stage_started", None)
        if started is not None:
            self.ns += time.process_time_ns() - started

    def hook(self) -> None:
        from core.adapters.dynamodb.models import dynamodb_clients

        for client in dynamodb_clients():
            events = client.meta.events
            events.register("before-call.dynamodb", self.before)
            events.register("after-call.dynamodb", self.after)
            events.register("after-call-error.dynamodb", self.after)
        bcrypt = sys.modules.get("bcrypt")
        for name in ("hashpw", "checkpw") if bcrypt is not None else ():
            setattr(bcrypt, name, self._timed(getattr(bcrypt, name)))

    def _timed(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            started = time.process_time_ns()
            try:
                return function(*args)
            finally:
                self.ns += time.process_time_ns() - started

        return run


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def main() -> None:
    module_name, request_path, result_path = sys.argv[1:4]
    invocations = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    import os

    blocked = os.environ.get("STRATA_BENCH_BLOCK", "").split(",")
    sys.meta_path.insert(0, Blocked(frozenset(n for n in blocked if n)))
    stages = Stages()
    started = time.process_time()
    stages.timed(
        "shared imports", lambda: [importlib.import_module(m) for m in SHARED]
    )()
    stages.timed(
        "runtime import", lambda: importlib.import_module("functions.runtime.api")
    )()

    # Wrapped where the handler module's import finds them.
    from core.adapters.dynamodb import models
    from functions.runtime import container, secrets

    container.build_container = stages.timed(
        "build_container", container.build_container
    )
    models.bind_tables = stages.timed("DynamoDB client", models.bind_tables)
    secrets.resolve_secrets = stages.timed("secrets read", secrets.resolve_secrets)
    module = stages.timed("handler module", importlib.import_module)(module_name)
    init_ms = (time.process_time() - started) * 1000

    from local.harness import FakeLambdaContext

    with open(request_path, encoding="utf-8") as file:
        event = json.load(file)["event"]
    context = FakeLambdaContext("strata-bench", memory_limit_in_mb=1024)
    dynamo = DynamoCpu()
    if container.current() is not None:
        dynamo.hook()
    dynamo.ns = 0
    first = time.process_time_ns()
    reply = module.handler(event, context)
    first_ms = (time.process_time_ns() - first - dynamo.ns) / 1e6
    result: dict[str, Any] = {
        "init": init_ms,
        **stages.ms,
        "first request": first_ms,
        # As ``tools.bench.child`` reports it: the driver checks it.
        "reply": (
            {"statusCode": reply["statusCode"], "body": str(reply.get("body"))[:300]}
            if "statusCode" in reply
            else dict(reply)
        ),
    }
    inner = getattr(module.handler, "inner", None)
    if invocations and "statusCode" in reply and inner is not None:
        result["warm call"] = _warm(module.handler, event, context, dynamo, invocations)
        result["warm call, Mangum alone"] = _warm(
            inner, event, context, dynamo, invocations
        )
    with open(result_path, "w", encoding="utf-8") as file:
        json.dump(result, file)


def _warm(
    handler: Callable[..., Any],
    event: dict[str, Any],
    context: Any,
    dynamo: DynamoCpu,
    invocations: int,
) -> float:
    """The median CPU ms of a call of ``handler``, less DynamoDB's."""
    import gc
    import io
    from contextlib import redirect_stdout

    samples: list[float] = []
    # The log lines go nowhere, as the bench's children's stdout does.
    with redirect_stdout(io.StringIO()) as sink:
        for _ in range(max(5, invocations // 10)):
            handler(event, context)
        gc.collect()
        for _ in range(invocations):
            dynamo.ns = 0
            started = time.process_time_ns()
            handler(event, context)
            samples.append((time.process_time_ns() - started - dynamo.ns) / 1e6)
            sink.seek(0)
            sink.truncate()
    return median(samples)


if __name__ == "__main__":
    main()
