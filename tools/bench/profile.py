"""``python -m tools.bench.profile NAME [NAME...] [--runs 3] [--invocations 200]``:
where a function's cold start and warm call go (``tools.bench.stages``), CPU ms.

Each function runs in ``--runs`` fresh processes set up as ``make bench`` sets up
its children (moto on loopback, the Stripe emulator, the function's own secrets in
moto's Secrets Manager, the state its request needs, ``AWS_LAMBDA_FUNCTION_NAME``
set so its import is Lambda's init); the table holds the median of each stage.
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from local.stack import provision
from tools.bench import stages
from tools.bench.runner import (
    ROOT,
    BenchError,
    child_environment,
    create_secrets,
    emulator_pay,
    local_environment,
    moto_server,
    secret_environment,
    stripe_emulator,
)
from tools.bench.scenarios import MODULES, PERMISSIONS, Scenarios

STAGES_SOURCE = Path(stages.__file__).read_text(encoding="utf-8")
ROWS = (
    "shared imports",
    "runtime import",
    "handler module",
    "build_container",
    "DynamoDB client",
    "secrets read",
    "init",
    "first request",
    "warm call",
    "warm call, Mangum alone",
)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench.profile", description=__doc__
    )
    parser.add_argument("names", nargs="+", metavar="NAME")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--invocations", type=int, default=200)
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in MODULES]
    if unknown:
        parser.error(f"no such function: {', '.join(unknown)}")
    if args.runs < 1 or args.invocations < 0:
        parser.error("--runs must be positive, --invocations not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    local_environment()
    try:
        with (
            moto_server(),
            stripe_emulator() as stripe,
            tempfile.TemporaryDirectory(prefix="strata-profile-") as tmp,
        ):
            results = measure(args, Path(tmp), stripe)
    except BenchError as error:
        print(f"profile: {error}", file=sys.stderr)
        return 1
    print(table(args.names, results))
    print()
    print(
        f"CPU ms, median of {args.runs} fresh processes; warm: median of "
        f"{args.invocations} calls, less the CPU inside DynamoDB calls. Nested, not "
        "additive: DynamoDB client and secrets read are part of build_container, "
        "which is part of handler module (tools/bench/stages.py)."
    )
    return 0


def measure(
    args: argparse.Namespace, workdir: Path, stripe: Any
) -> dict[str, list[dict[str, float]]]:
    from functions.runtime.container import build_container

    settings = provision()
    scenarios = Scenarios(
        build_container(settings), secrets.token_hex(3), emulator_pay(stripe)
    )
    env = child_environment(workdir, settings.users_table)
    arns = create_secrets(settings)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in args.names}
    for _ in range(args.runs):
        for name in args.names:
            request = workdir / "request.json"
            call = scenarios.call(name)
            request.write_text(json.dumps({"event": call.event()}), encoding="utf-8")
            result = workdir / "result.json"
            result.unlink(missing_ok=True)
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    STAGES_SOURCE,
                    MODULES[name],
                    str(request),
                    str(result),
                    str(args.invocations),
                ],
                cwd=ROOT,
                env={**env, **secret_environment(PERMISSIONS[name], arns)},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                timeout=300,
                check=False,
            )
            if done.returncode != 0 or not result.is_file():
                raise BenchError(f"{name}: the child failed:\n{done.stderr[-3000:]}")
            data = json.loads(result.read_text(encoding="utf-8"))
            failure = call.failure(data.pop("reply"))
            if failure is not None:
                raise BenchError(f"{name}: {failure}")
            results[name].append(data)
    return results


def table(names: list[str], results: dict[str, list[dict[str, float]]]) -> str:
    lines = [
        "| stage | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for row in ROWS:
        cells = []
        for name in names:
            values = [run[row] for run in results[name] if row in run]
            cells.append(f"{stages.median(values):.2f}" if values else "-")
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
