"""What tracing costs a cold start: one function's import and first request, in
fresh processes, with tracing on and off, over real HTTP to moto.

    python -m tools.tracing_cost [--runs N] [--function me]

Before timing, this process starts moto on loopback, creates the tables, signs a
user up and logs them in (so a child has nothing to prepare). Each child then
imports the function's module (its init: with tracing on, Powertools' Tracer is
built, the X-Ray SDK imported and botocore and urllib3 patched) and answers one
request with the real adapters; it reports the CPU and wall time of each part. A
child with tracing on runs as Lambda runs it with active tracing
(``LAMBDA_TASK_ROOT``, ``_X_AMZN_TRACE_ID``), its subsegments sent over UDP to a
loopback port nobody reads, which is what the X-Ray daemon's socket costs in Lambda.
Runs alternate on and off; the table shows the medians and the difference.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "tracing-cost-password-1"  # noqa: S105 (a throwaway account)

CHILD = textwrap.dedent(
    """
    import json, sys, time
    cpu, wall = time.process_time(), time.perf_counter()
    from functions.catalog import BY_NAME
    endpoint = BY_NAME[sys.argv[1]]
    module = __import__(endpoint.module, fromlist=["handler"])
    init = (time.process_time() - cpu, time.perf_counter() - wall)
    from functions.sample_events import sample_event
    from local.harness import FakeLambdaContext
    event = sample_event(endpoint, sys.argv[2] or None)
    cpu, wall = time.process_time(), time.perf_counter()
    reply = module.handler(event, FakeLambdaContext("strata-cost"))
    first = (time.process_time() - cpu, time.perf_counter() - wall)
    print(json.dumps({
        "status": reply["statusCode"],
        "init": init,
        "first": first,
        "xray": "aws_xray_sdk" in sys.modules,
    }))
    """
)


def _environment(endpoint: str, tracing: bool) -> dict[str, str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("AWS_")
    }
    environment.update(
        PYTHONDONTWRITEBYTECODE="1",
        STRATA_STAGE="local",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 (moto's)
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=endpoint,
        STRATA_TRACING="true" if tracing else "false",
    )
    if tracing:
        from local.harness import free_port

        environment.update(
            LAMBDA_TASK_ROOT=str(ROOT),
            AWS_LAMBDA_FUNCTION_NAME="strata-cost",
            _X_AMZN_TRACE_ID=(
                "Root=1-67891233-abcdef012345678912345678;"
                "Parent=53995c3f42cd8ad8;Sampled=1"
            ),
            AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{free_port()}",
        )
    return environment


def _prepare(endpoint: str) -> str:
    """Tables and a logged-in user on moto at ``endpoint``; the session cookie."""
    os.environ.update(_environment(endpoint, tracing=False))
    from core.adapters.dynamodb.models import TABLE_MODELS
    from core.domain.user import Role
    from functions.runtime.container import build_container
    from functions.runtime.settings import get_settings

    container = build_container(get_settings())
    for model in TABLE_MODELS:
        model.create_table(wait=True)
    container.registrar().register(
        "cost.user", "cost@example.com", PASSWORD, Role.ADMIN
    )
    token = container.log_in().execute("cost.user", PASSWORD, None).token
    return f"access_token={token}"


def _child(endpoint: str, function: str, cookie: str, tracing: bool) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, function, cookie],
        cwd=ROOT,
        env=_environment(endpoint, tracing),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["status"] >= 500 or result["xray"] != tracing:
        raise SystemExit(f"unexpected run (tracing={tracing}): {result}")
    return result


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--function", default="me")
    args = parser.parse_args(argv)

    import logging

    from moto.server import ThreadedMotoServer

    from local.harness import free_port

    # moto's server logs every request; the table is what this prints.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        cookie = _prepare(endpoint)
        runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
        for _ in range(args.runs):
            for tracing in (False, True):
                runs[tracing].append(_child(endpoint, args.function, cookie, tracing))
    finally:
        server.stop()

    print(
        f"{args.function}: import + first request in fresh processes, "
        f"median of {args.runs} (ms)"
    )
    print(f"{'':18}{'off':>10}{'on':>10}{'on - off':>10}")
    for part, index, label in (
        ("init", 0, "init CPU"),
        ("init", 1, "init wall"),
        ("first", 0, "1st request CPU"),
        ("first", 1, "1st request wall"),
    ):
        off = _ms([r[part][index] for r in runs[False]])
        on = _ms([r[part][index] for r in runs[True]])
        print(f"{label:18}{off:10.1f}{on:10.1f}{on - off:+10.1f}")
    total = {
        tracing: _ms([r["init"][0] + r["first"][0] for r in runs[tracing]])
        for tracing in (False, True)
    }
    print(
        f"{'total CPU':18}{total[False]:10.1f}{total[True]:10.1f}"
        f"{total[True] - total[False]:+10.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
