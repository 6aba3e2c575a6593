"""``python -m tools.bench.secrets``: the cold cost of reading a function's secrets.

The Stripe webhook holds three secrets (the JWT key, Stripe's API key and webhook
signing secret). Each fresh process imports what a handler has loaded before its
container is built (``functions.runtime.app``, which brings Powertools' logger),
then times one ``resolve_secrets`` against moto on loopback: its imports, the
Secrets Manager client and the round trips, in CPU and wall time.

- after: ``functions.runtime.secrets`` as it is (one BatchGetSecretValue);
- before: the same module at ``BEFORE_COMMIT`` (Powertools' SecretsProvider, one
  GetSecretValue per secret), materialised with ``git show``.

Rounds alternate the two in one shuffled order per round; the figures are the median
and min-max of ``--runs`` processes each.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# main before the batch read: functions/runtime/secrets.py on Powertools.
BEFORE_COMMIT = "10c334a"
RESOLVER_PATH = "functions/runtime/secrets.py"
BEFORE_MODULE = "strata_bench_secrets_before"
AFTER_MODULE = "functions.runtime.secrets"

CHILD = """
import importlib, json, sys, time

import functions.runtime.app  # what a handler module has loaded by then
from functions.runtime.settings import Settings

settings = Settings.from_env()
module = importlib.import_module(sys.argv[1])
wall, cpu = time.perf_counter(), time.process_time()
resolved = module.resolve_secrets(settings)
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
assert resolved.stripe_webhook_secret_value().startswith("whsec_")
with open(sys.argv[2], "w") as out:
    json.dump({"cpu_ms": cpu * 1000, "wall_ms": wall * 1000}, out)
"""


def _secrets(endpoint: str) -> dict[str, str]:
    """The webhook's three secrets, made in moto: their variables and ARNs."""
    import botocore.session

    client = botocore.session.get_session().create_client(
        "secretsmanager", region_name="us-east-1", endpoint_url=endpoint
    )
    values = {
        "STRATA_JWT_SECRET_ARN": "j" * 64,
        "STRATA_STRIPE_API_KEY_ARN": "sk_test_" + "k" * 40,
        "STRATA_STRIPE_WEBHOOK_SECRET_ARN": "whsec_" + "w" * 40,
    }
    return {
        var: client.create_secret(Name=f"bench-{var.lower()}", SecretString=value)[
            "ARN"
        ]
        for var, value in values.items()
    }


def _before_module(directory: Path) -> bool:
    shown = subprocess.run(
        ["git", "show", f"{BEFORE_COMMIT}:{RESOLVER_PATH}"],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    if shown.returncode != 0:
        return False
    (directory / f"{BEFORE_MODULE}.py").write_bytes(shown.stdout)
    return True


def _run(module: str, env: dict[str, str], result: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, module, str(result)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{module}: the child failed:\n{done.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(result.read_text(encoding="utf-8"))
    return figures


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench.secrets", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--runs", type=int, default=7, help="processes per side (7)")
    runs = parser.parse_args(argv).runs
    # Fake credentials: this only ever talks to moto on loopback.
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 (moto takes any)
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
    )
    os.environ.pop("AWS_PROFILE", None)
    import logging

    from moto.server import ThreadedMotoServer

    from local.harness import free_port

    # The server's access log would drown the table.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryDirectory(prefix="strata-secrets-") as tmp:
            directory = Path(tmp)
            sides = {"after (one BatchGetSecretValue)": AFTER_MODULE}
            if _before_module(directory):
                sides = {
                    f"before ({BEFORE_COMMIT}: Powertools, one call per secret)": (
                        BEFORE_MODULE
                    ),
                    **sides,
                }
            env = {
                **os.environ,
                **_secrets(endpoint),
                "AWS_ENDPOINT_URL": endpoint,
                "STRATA_STAGE": "dev",
                "PYTHONPATH": str(directory),
            }
            samples: dict[str, dict[str, list[float]]] = {
                side: {"cpu_ms": [], "wall_ms": []} for side in sides
            }
            order = list(sides)
            shuffle = random.Random(20250101)  # noqa: S311 (an order, not a secret)
            result = directory / "result.json"
            for _ in range(runs):
                shuffle.shuffle(order)
                for side in order:
                    figures = _run(sides[side], env, result)
                    for key, value in figures.items():
                        samples[side][key].append(value)
    finally:
        server.stop()
    print(
        "Reading the Stripe webhook's 3 secrets at cold start, against moto on "
        f"loopback: median (min-max) of {runs} fresh processes each, imports and "
        "client included"
    )
    print()
    print("| read | CPU ms | wall ms |")
    print("|---|---|---|")
    for side, sampled in samples.items():
        cpu, wall = _spread(sampled["cpu_ms"]), _spread(sampled["wall_ms"])
        print(f"| {side} | {cpu} | {wall} |")
    if len(samples) == 1:
        print(f"\n(before: git could not show {BEFORE_COMMIT}:{RESOLVER_PATH})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
