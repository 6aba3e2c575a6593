"""Drive the benchmark: moto on loopback, fresh child processes, the tables.

Headline: import + first request per function (CPU and wall, bcrypt apart) beside
the naive stack in the same rounds, each function holding only its own secrets, in
moto's Secrets Manager; then the two goals (``report.headline_goal``,
``report.warm_real_goal``) with PASS or FAIL.

Cold start: each subject is measured in ``--runs`` fresh processes (after one
discovery round that is not counted: it warms the file cache and finds each
function's dependencies). Each round runs every subject once, in a shuffled order,
so that noise from other work on the machine falls on all subjects alike. The
functions are the catalog's endpoints and its workers (the task worker, handed an
SQS event, and the scheduler). Before a function's child starts, the parent makes
the state its first request needs through the real container on moto, where the
tables, the task queues, the export bucket and the SES sender identity exist
(``local.resources``). Warm invocations run in one more child, over the fakes.
DynamoDB calls are counted by ``tools.roundtrips.measure`` for the endpoints and the
same way here for the workers.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from functions.catalog import ENDPOINTS, WORKERS
from functions.permissions import uses_stripe
from local.harness import free_port
from local.stack import provision
from tools.bench import child, references
from tools.bench.report import (
    DEP_FLOOR_ROW,
    DEP_FLOOR_TARGET,
    FASTAPI_FLOOR_ROW,
    FASTAPI_FLOOR_TARGET,
    NAIVE_ROW,
    SDK_TARGET,
    WARM_TARGET,
    Cold,
    FunctionRow,
    ReferenceRow,
    SdkRow,
    Warm,
    headline,
    headline_goal,
    markdown,
    rows,
    sdk_rows,
    warm_real_goal,
)
from tools.bench.scenarios import MODULES, PERMISSIONS, Call, Scenarios

ROOT = Path(__file__).resolve().parents[2]
CHILD_SOURCE = Path(child.__file__).read_text(encoding="utf-8")
CHILD_TIMEOUT = 180
LAYER_LOCK = ROOT / "requirements" / "lambda.txt"
# The billing functions' second layer: the stripe SDK.
STRIPE_LAYER_LOCK = ROOT / "requirements" / "lambda-stripe.txt"
# What the Lambda layer does not ship but this dev environment has (moto pulls them
# in), and FastAPI and PyJWT import when present.
# requests and httpx: the stripe SDK imports them when present, and neither ships.
NOT_IN_LAYER = ("cryptography", "email_validator", "requests", "httpx")
# main before the stripe SDK replaced the hand-written client: its billing
# functions are measured beside ours (``previous_tree``).
PREVIOUS_CLIENT_COMMIT = "95e56a1"
PREVIOUS_PACKAGES = ("core", "functions", "events")
# The production cost (Settings' default) for a full run: the hashing functions'
# bcrypt time is reported apart; a smoke run keeps the tests' cheap cost.
BCRYPT_ROUNDS = "12"
SMOKE_BCRYPT_ROUNDS = "4"
# The function whose warm invocations on real adapters the second goal is about.
WARM_REAL_FUNCTION = "me"
# Billing functions that tree cannot run against today's tables, and why: they are
# left out of the comparison (the SDK's cost is still shown by the others).
PREVIOUS_CANNOT_RUN = {
    "billing_worker": "its reconciliation queries the index subscribed_users, "
    "which the sharded subscribed_users_v2 replaced: every batch fails",
}
# Variables that would change how a child's interpreter runs.
_INTERPRETER_VARIABLES = (
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONDEVMODE",
    "PYTHONTRACEMALLOC",
    "PYTHONPROFILEIMPORTTIME",
    "PYTHONMALLOC",
    "PYTHONASYNCIODEBUG",
    "PYTHONINSPECT",
    "PYTHONVERBOSE",
)


class BenchError(RuntimeError):
    pass


@dataclass(frozen=True)
class Options:
    runs: int
    invocations: int
    warmup: int
    block: int
    smoke: bool
    # Only these functions (the references are always measured); empty: all.
    only: tuple[str, ...] = ()
    bcrypt_rounds: str = BCRYPT_ROUNDS


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m tools.bench",
        description="Cold start, warm invocations and DynamoDB calls of every HTTP "
        "function and worker, beside a FastAPI floor, dependency floors and a naive "
        "stack.",
    )
    parser.add_argument(
        "--runs", type=int, default=7, help="fresh processes per subject (7)"
    )
    parser.add_argument(
        "--invocations",
        type=int,
        default=500,
        help="warm invocations per subject, all in one process (500)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="one process per subject, a few warm invocations: seconds, not minutes",
    )
    parser.add_argument(
        "--only",
        default="",
        metavar="NAME[,NAME...]",
        help="measure only these functions (catalog names, e.g. stripe_webhook); "
        "the FastAPI floor, the dependency floors and the naive stack still run",
    )
    args = parser.parse_args(argv)
    only = tuple(name for name in args.only.split(",") if name)
    unknown = [name for name in only if name not in MODULES]
    if unknown:
        parser.error(f"no such function: {', '.join(unknown)}")
    if args.smoke:
        return Options(
            runs=1,
            invocations=5,
            warmup=1,
            block=5,
            smoke=True,
            only=only,
            bcrypt_rounds=SMOKE_BCRYPT_ROUNDS,
        )
    if args.runs < 1 or args.invocations < 1:
        parser.error("--runs and --invocations must be positive")
    return Options(
        args.runs, args.invocations, warmup=20, block=50, smoke=False, only=only
    )


# -- the environment ---------------------------------------------------------------


def local_environment(bcrypt_rounds: str = BCRYPT_ROUNDS) -> None:
    """Fake credentials and the local stage: this never talks to a real AWS account."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 (moto takes any)
        AWS_SESSION_TOKEN="testing",  # noqa: S106
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        STRATA_STAGE="local",
        STRATA_BCRYPT_ROUNDS=bcrypt_rounds,
    )
    for name in (
        "AWS_PROFILE",
        "AWS_REGION",
        "STRATA_JWT_SECRET",
        "STRATA_PASSWORD_PEPPER",
        "STRATA_USERS_TABLE",
        "STRATA_SESSIONS_TABLE",
        "STRATA_REGION",
        "STRATA_TASKS_TABLE",
        # The task queues, bucket and sender are made in moto and set by ``measure``.
        "STRATA_EMAIL_TASK_QUEUE_URL",
        "STRATA_USERS_TASK_QUEUE_URL",
        "STRATA_BILLING_TASK_QUEUE_URL",
        "STRATA_EXPORTS_BUCKET",
        "STRATA_EMAIL_FROM",
        "STRATA_SES_CONFIGURATION_SET",
        "STRATA_TASK_MAX_RECEIVES",
        "STRATA_TASK_LEASE_SECONDS",
        "STRATA_OUTBOX_DIR",  # no .eml files: as in AWS
        # Stripe is the local emulator the bench starts (``stripe_emulator``),
        # with the local stage's key and webhook secret; its clock never moves.
        "STRATA_STRIPE_API_KEY",
        "STRATA_STRIPE_API_KEY_ARN",
        "STRATA_STRIPE_WEBHOOK_SECRET",
        "STRATA_STRIPE_WEBHOOK_SECRET_ARN",
        "STRATA_STRIPE_API_BASE",
        "STRATA_CLOCK_OFFSET_FILE",
        "STRATA_PLANS_FILE",
    ):
        os.environ.pop(name, None)


def child_environment(module_dir: Path, users_table: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _INTERPRETER_VARIABLES}
    env.update(
        PYTHONPATH=str(module_dir),
        PYTHONNOUSERSITE="1",
        STRATA_BENCH_BLOCK=",".join(NOT_IN_LAYER),
        STRATA_BENCH_TABLE=users_table,
        # As in Lambda: Powertools' Tracer is on, X-Ray's daemon is on loopback.
        LAMBDA_TASK_ROOT=str(ROOT),
        AWS_LAMBDA_FUNCTION_NAME="strata-bench",
        AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:2000",
        _X_AMZN_TRACE_ID=(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        ),
    )
    # The previous client's tree (PREVIOUS_CLIENT_COMMIT) had one task queue, read
    # from this variable; its webhook queues emails there. Today's code reads the
    # families' own variables only, and ignores this one.
    if "STRATA_EMAIL_TASK_QUEUE_URL" in env:
        env["STRATA_TASK_QUEUE_URL"] = env["STRATA_EMAIL_TASK_QUEUE_URL"]
    return env


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on a free loopback port, for this process and its children."""
    from moto.server import ThreadedMotoServer

    # The server's access log would drown the table.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        yield endpoint
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        server.stop()


@contextmanager
def stripe_emulator() -> Iterator[Any]:
    """The local Stripe emulator on a free loopback port, for this process and its
    children (``STRATA_STRIPE_API_BASE``). It sends no webhooks: the webhook's
    requests are signed events the scenarios make."""
    from local.stripe_plans import plan_prices, start

    emulator = start(0, None, prices=plan_prices(provision_settings()))
    os.environ["STRATA_STRIPE_API_BASE"] = emulator.url
    try:
        yield emulator
    finally:
        os.environ.pop("STRATA_STRIPE_API_BASE", None)
        emulator.stop()


def provision_settings() -> Any:
    from functions.runtime.settings import Settings

    return Settings.from_env()


def emulator_pay(emulator: Any) -> Any:
    """Pay a checkout on the emulator's Checkout page; the subscription it made."""
    from tools.roundtrips import pay_checkout

    def pay(url: str) -> str:
        pay_checkout(url)
        session_id = url.rsplit("/", 1)[1]
        return str(emulator.state.sessions[session_id]["subscription"])

    return pay


# -- children ----------------------------------------------------------------------


class Children:
    """Runs child processes and reads their results."""

    def __init__(
        self,
        workdir: Path,
        env: dict[str, str],
        naive_env: dict[str, str],
        secrets: dict[str, dict[str, str]] | None = None,
    ):
        self.workdir = workdir
        self.env = env
        self.naive_env = naive_env
        # Per module: the variables naming the secrets it holds (ARNs in moto).
        self.secrets = secrets or {}

    def _run(
        self, args: list[str], env: dict[str, str], what: str, cwd: Path = ROOT
    ) -> Any:
        result = self.workdir / "result.json"
        result.unlink(missing_ok=True)
        done = subprocess.run(
            [sys.executable, "-c", CHILD_SOURCE, *args],
            # The child imports core and functions from here (``python -c`` puts
            # the working directory first on sys.path).
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=CHILD_TIMEOUT,
            check=False,
        )
        if done.returncode != 0 or not result.is_file():
            raise BenchError(f"{what}: the child failed:\n{done.stderr[-3000:]}")
        return json.loads(result.read_text(encoding="utf-8"))

    def cold(
        self,
        module: str,
        call: Call | None = None,
        cwd: Path = ROOT,
        label: str = "",
    ) -> dict[str, Any]:
        args = ["cold", module, str(self.workdir / "result.json")]
        if call is not None:
            request = self.workdir / "request.json"
            request.write_text(
                json.dumps({"event": call.event()}),
                encoding="utf-8",
            )
            args.append(str(request))
        env = self.naive_env if module == references.NAIVE_STACK else self.env
        env = {**env, **self.secrets.get(module, {})}
        data: dict[str, Any] = self._run(args, env, module, cwd)
        if call is not None:
            failure = call.failure(data.get("reply") or {})
            if failure is not None:
                raise BenchError(f"{label or call.name}: {failure}")
        return data

    def warm_real(self, config: dict[str, Any]) -> dict[str, list[int]]:
        path = self.workdir / "warm_real.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        env = {**self.env, **self.secrets.get(config["module"], {})}
        samples: dict[str, list[int]] = self._run(
            ["warm_real", str(self.workdir / "result.json"), str(path)],
            env,
            "warm_real",
        )
        return samples

    def warm(self, config: dict[str, Any]) -> dict[str, list[list[int]]]:
        path = self.workdir / "warm.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        samples: dict[str, list[list[int]]] = self._run(
            ["warm", str(self.workdir / "result.json"), str(path)], self.env, "warm"
        )
        return samples


# -- the run -----------------------------------------------------------------------


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    local_environment(options.bcrypt_rounds)
    started = time.monotonic()
    try:
        with (
            moto_server(),
            stripe_emulator() as stripe,
            tempfile.TemporaryDirectory(prefix="strata-bench-") as tmp,
        ):
            top, goals, table, sdk_table, notes = measure(options, Path(tmp), stripe)
    except BenchError as error:
        _progress(f"bench: {error}")
        return 1
    print(markdown(top))
    print()
    for goal in goals:
        print(goal)
    print()
    print(markdown(table))
    print()
    if sdk_table is not None:
        print(markdown(sdk_table))
        print()
    for note in notes:
        print(note)
    _progress(f"bench: done in {time.monotonic() - started:.0f} s")
    return 0


@dataclass
class Discovery:
    """What each function's first process showed: the third-party packages it had
    loaded by the end of its first request, and its DynamoDB calls and clients."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    def packages(self, name: str) -> tuple[str, ...]:
        return tuple(self.results[name]["third_party"])

    def count(self, name: str, key: str) -> int:
        return int(self.results[name][key])


@dataclass
class DependencyFloors:
    """One floor per distinct package set: label -> module, packages; and whose."""

    module: dict[str, str] = field(default_factory=dict)
    packages: dict[str, tuple[str, ...]] = field(default_factory=dict)
    of: dict[str, str] = field(default_factory=dict)

    @classmethod
    def write(cls, discovery: Discovery, directory: Path) -> DependencyFloors:
        floors = cls()
        for name in discovery.results:
            packages = discovery.packages(name)
            label = next(
                (known for known, p in floors.packages.items() if p == packages), None
            )
            if label is None:
                letter = chr(ord("A") + len(floors.packages))
                label = f"{DEP_FLOOR_ROW} {letter}"
                module = f"{references.PREFIX}deps_{letter.lower()}"
                source = references.dependency_floor_source(packages)
                references.write_module(directory, module, source)
                floors.module[label] = module
                floors.packages[label] = packages
            floors.of[name] = label
        return floors


def previous_tree(workdir: Path) -> tuple[Path | None, str]:
    """``PREVIOUS_PACKAGES`` as they were at ``PREVIOUS_CLIENT_COMMIT`` (the
    hand-written Stripe client), in ``workdir``; or None and why not."""
    target = workdir / "previous"
    target.mkdir()
    try:
        archive = subprocess.run(
            ["git", "archive", PREVIOUS_CLIENT_COMMIT, *PREVIOUS_PACKAGES],
            cwd=ROOT,
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"git could not run ({exc})"
    if archive.returncode != 0:
        return None, archive.stderr.decode(errors="replace").strip()
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    return target, ""


Table = list[list[str]]


def measure(
    options: Options, workdir: Path, stripe: Any
) -> tuple[Table, list[str], Table, Table | None, list[str]]:
    from functions.runtime.container import build_container, use_container
    from tools.roundtrips import measure as count_dynamo_calls

    # Tables, the task queues, the export bucket and the verified SES sender, in
    # moto; their settings reach the children through the environment (Stripe's
    # base URL too: the emulator).
    settings = provision()
    container = build_container(settings)
    scenarios = Scenarios(container, secrets.token_hex(3), emulator_pay(stripe))
    missing = [e.name for e in ENDPOINTS if not scenarios.covers(e.name)]
    if missing:
        raise BenchError(f"catalog endpoints the bench has no request for: {missing}")
    missing = [w.name for w in WORKERS if not scenarios.covers(w.name)]
    if missing:
        raise BenchError(f"catalog workers the bench has no event for: {missing}")
    functions = [name for name in MODULES if not options.only or name in options.only]

    modules = workdir / "modules"
    modules.mkdir()
    references.write_module(
        modules, references.FASTAPI_FLOOR, references.FASTAPI_FLOOR_SOURCE
    )
    references.write_module(
        modules, references.NAIVE_STACK, references.NAIVE_STACK_SOURCE
    )
    env = child_environment(modules, settings.users_table)
    arns = create_secrets(settings)
    naive_env = {
        **env,
        "STRATA_BENCH_BLOCK": ",".join(references.naive_blocked()),
        # The naive stack reads the JWT key at import, as a hand-written function
        # would (one GetSecretValue through boto3).
        "STRATA_BENCH_SECRET_ARN": arns[PERMISSION_SECRETS[""]],
    }
    held = {
        MODULES[name]: secret_environment(PERMISSIONS[name], arns) for name in MODULES
    }
    children = Children(workdir, env, naive_env, held)
    cold = {name: Cold() for name in functions}

    # Discovery: each function once, not counted (but kept when there is one run
    # only), also warming the file cache for the rounds.
    _progress(f"bench: discovery round ({len(functions)} functions)")
    discovery = Discovery()
    for name in functions:
        result = children.cold(MODULES[name], scenarios.call(name))
        discovery.results[name] = result
        if options.smoke:
            cold[name].add(result)
    floors = DependencyFloors.write(discovery, modules)

    # The billing functions again, on the hand-written client they had before the
    # SDK: the same child, the same scenario, run from that commit's tree.
    billing = [
        name
        for name in functions
        if uses_stripe(PERMISSIONS[name]) and name not in PREVIOUS_CANNOT_RUN
    ]
    previous, why_not_previous = previous_tree(workdir) if billing else (None, "")
    before = {name: Cold() for name in billing} if previous is not None else {}
    if previous is not None and options.smoke:
        for name in billing:
            first = scenarios.call(name)
            label = _before(name)
            before[name].add(children.cold(MODULES[name], first, previous, label))

    # The rounds: every subject once per round, in a shuffled order.
    subjects = {
        FASTAPI_FLOOR_ROW: references.FASTAPI_FLOOR,
        NAIVE_ROW: references.NAIVE_STACK,
        **floors.module,
    }
    for label in subjects:
        cold[label] = Cold()
    if not options.smoke:
        subjects.update({name: MODULES[name] for name in functions})
        subjects.update({_before(name): MODULES[name] for name in before})
    shuffle = random.Random(20250101)  # noqa: S311 (an order, not a secret)
    for run in range(options.runs):
        _progress(f"bench: cold round {run + 1}/{options.runs}")
        order = list(subjects)
        shuffle.shuffle(order)
        for label in order:
            call: Call | None = None
            if label in discovery.results:
                call = scenarios.call(label)
            elif label in (FASTAPI_FLOOR_ROW, NAIVE_ROW):
                # Both serve GET / with 200; the naive stack reads DynamoDB for it.
                call = Call("root", 200)
            elif previous is not None and label.endswith(_BEFORE):
                name = label.removesuffix(_BEFORE)
                result = children.cold(
                    subjects[label], scenarios.call(name), previous, label
                )
                before[name].add(result)
                continue
            cold[label].add(children.cold(subjects[label], call))

    _progress(f"bench: warm, {options.invocations} invocations per subject")
    warm = children.warm(
        {
            "floor_name": FASTAPI_FLOOR_ROW,
            "floor_module": references.FASTAPI_FLOOR,
            "functions": functions,
            "invocations": options.invocations,
            "warmup": options.warmup,
            "block": options.block,
        }
    )

    warm_real_ratio: float | None = None
    why_not = f"--only leaves {WARM_REAL_FUNCTION} out"
    if WARM_REAL_FUNCTION in functions:
        _progress(f"bench: warm {WARM_REAL_FUNCTION} on its real adapters")
        real = children.warm_real(
            {
                "module": MODULES[WARM_REAL_FUNCTION],
                "event": scenarios.call(WARM_REAL_FUNCTION).event(),
                "expect": scenarios.call(WARM_REAL_FUNCTION).expect,
                "floor_module": references.FASTAPI_FLOOR,
                "floor_event": Call("root", 200).event(),
                "invocations": options.invocations,
                "warmup": options.warmup,
                "block": options.block,
            }
        )
        warm_real_ratio = Warm(_blocks(real["function"], options.block)).p50_ratio(
            Warm(_blocks(real["floor"], options.block))
        )

    _progress("bench: counting DynamoDB calls")
    use_container(container)
    try:
        counted = {
            name: sum(ops.values())
            for name, ops in count_dynamo_calls().items()
            if name in functions
        }
        for worker in WORKERS:
            if worker.name in functions:
                counted[worker.name] = count_worker_calls(scenarios.call(worker.name))
    finally:
        use_container(None)

    function_rows = [
        FunctionRow(
            name=name,
            cold=cold[name],
            dep_floor=floors.of[name],
            aws_free=not PERMISSIONS[name],
            warm=Warm(warm[name]),
            dynamo_calls=counted[name],
        )
        for name in functions
    ]
    table = rows(
        function_rows,
        ReferenceRow(
            FASTAPI_FLOOR_ROW, cold[FASTAPI_FLOOR_ROW], Warm(warm[FASTAPI_FLOOR_ROW])
        ),
        {label: ReferenceRow(label, cold[label]) for label in floors.module},
        ReferenceRow(NAIVE_ROW, cold[NAIVE_ROW]),
    )
    sdk_table = (
        sdk_rows([SdkRow(name, cold[name], before[name]) for name in billing])
        if before
        else None
    )
    notes = explain(options, discovery, floors, counted)
    if billing:
        notes.append(sdk_note(billing, previous is not None, why_not_previous))
    notes += [
        f"{name} is not compared with {PREVIOUS_CLIENT_COMMIT}: {why}."
        for name, why in PREVIOUS_CANNOT_RUN.items()
        if name in functions
    ]
    top = headline(function_rows, ReferenceRow(NAIVE_ROW, cold[NAIVE_ROW]))
    goals = [
        headline_goal(top),
        warm_real_goal(WARM_REAL_FUNCTION, warm_real_ratio, why_not),
    ]
    return top.table, goals, table, sdk_table, [*headline_notes(options), *notes]


_BEFORE = f" @ {PREVIOUS_CLIENT_COMMIT}"

# The secret each permission brings (a function with any permission holds the JWT
# key, keyed ""), with the value the local stage runs on, made in moto.
PERMISSION_SECRETS = {
    "": "STRATA_JWT_SECRET_ARN",
    "secrets:pepper": "STRATA_PASSWORD_PEPPER_ARN",
    "stripe:api": "STRATA_STRIPE_API_KEY_ARN",
    "stripe:webhook": "STRATA_STRIPE_WEBHOOK_SECRET_ARN",
}


def create_secrets(settings: Any) -> dict[str, str]:
    """The four secrets in moto, holding what the local stage runs on (so the
    sessions and hashes the scenarios make still verify): variable -> ARN."""
    import botocore.session

    from functions.runtime.settings import (
        LOCAL_STRIPE_API_KEY,
        LOCAL_STRIPE_WEBHOOK_SECRET,
    )

    values = {
        "STRATA_JWT_SECRET_ARN": settings.jwt_secret_value(),
        "STRATA_PASSWORD_PEPPER_ARN": settings.pepper_value(),
        "STRATA_STRIPE_API_KEY_ARN": LOCAL_STRIPE_API_KEY,
        "STRATA_STRIPE_WEBHOOK_SECRET_ARN": LOCAL_STRIPE_WEBHOOK_SECRET,
    }
    client = botocore.session.get_session().create_client(
        "secretsmanager", region_name="us-east-1"
    )
    suffix = secrets.token_hex(3)
    return {
        var: client.create_secret(Name=f"bench-{suffix}-{var}", SecretString=value)[
            "ARN"
        ]
        for var, value in values.items()
    }


def secret_environment(
    permissions: tuple[str, ...], arns: dict[str, str]
) -> dict[str, str]:
    """The secrets' variables a function with ``permissions`` is deployed with: the
    JWT key with any permission, the others with theirs (as ``infra_cdk`` does)."""
    if not permissions:
        return {}
    wanted = ["", *(p for p in permissions if p in PERMISSION_SECRETS)]
    return {PERMISSION_SECRETS[p]: arns[PERMISSION_SECRETS[p]] for p in wanted}


def _blocks(samples: list[int], block: int) -> list[list[int]]:
    return [samples[i : i + block] for i in range(0, len(samples), block)] or [[0]]


def headline_notes(options: Options) -> list[str]:
    return [
        "Headline: import of the handler module (in Lambda's init, which now builds "
        "the container: settings, the secrets read from Secrets Manager on moto in "
        "one call, the adapters and their AWS clients) plus its first request, "
        "in CPU and wall time of a fresh process, each function with only the "
        "secrets it is deployed with; the naive stack does its equivalent at "
        "import (boto3 client, its JWT key read with GetSecretValue) and one "
        "GetItem in its request. bcrypt runs at "
        f"{options.bcrypt_rounds} rounds"
        + (" (the production cost)" if options.bcrypt_rounds == BCRYPT_ROUNDS else "")
        + "; its time (hashpw, checkpw) is left out of the headline and shown "
        "apart. The ratio is the median over rounds of the function's CPU over the "
        "naive stack's in the same round; the goal is judged on CPU (steady on this "
        "shared machine), the wall ratio is beside it.",
        f"The second goal: {WARM_REAL_FUNCTION} imported as in Lambda (its "
        "container on moto), then invoked warm in blocks taking turns with the "
        "FastAPI floor in one process; each call's CPU less the CPU inside its "
        "DynamoDB calls (botocore before-call to after-call); the ratio is the "
        "median over blocks of the p50s' ratio.",
    ]


def _before(name: str) -> str:
    return name + _BEFORE


def sdk_note(billing: list[str], measured: bool, why_not: str) -> str:
    if not measured:
        return (
            "Billing functions on the previous Stripe client: not measured, git "
            f"could not give commit {PREVIOUS_CLIENT_COMMIT} ({why_not or 'unknown'}"
            "; a clone without history or a shallow one lacks it)."
        )
    return (
        f"Billing functions ({', '.join(billing)}): the stripe SDK (through "
        "core.adapters.stripe) beside the same function at commit "
        f"{PREVIOUS_CLIENT_COMMIT} (main before the SDK: its hand-written urllib3 "
        "client), "
        "materialised with git archive and run by the same child with "
        "the same scenario, in the same shuffled rounds; init + first request in "
        "CPU time of the child (the first request's less DynamoDB's CPU); the "
        "ratio is the median over rounds of SDK over previous in the same round. "
        f"requests and httpx are unimportable, as in the layers. Target ≤"
        f"{SDK_TARGET}x."
    )


def count_worker_calls(call: Call) -> int:
    """The DynamoDB calls of one worker invocation, in this process, through the
    installed container: counted on the models' clients as ``tools.roundtrips``
    counts a request's."""
    from importlib import import_module

    from tools.roundtrips import RequestCalls, _hooked

    handler = import_module(MODULES[call.name]).handler
    with _hooked() as hook:
        hook.current = calls = RequestCalls()
        reply = handler(call.event(), child.lambda_context())
        hook.current = None
    failure = call.failure(reply)
    if failure is not None:
        raise BenchError(f"{call.name}: {failure}")
    return calls.total


def explain(
    options: Options,
    discovery: Discovery,
    floors: DependencyFloors,
    counted: dict[str, int],
) -> list[str]:
    """The few lines printed under the table."""
    runs = (
        "1 fresh process per subject (--smoke: figures are not meaningful)"
        if options.smoke
        else f"median and min-max of {options.runs} fresh processes per subject "
        "(after one uncounted discovery round), subjects in a shuffled order per round"
    )
    notes = [
        f"Cold: {runs}. init = import of the handler module, which builds its app; "
        "first request = the handler's first call. Both in CPU time of the child "
        "(time.process_time: what the work costs, steady on this shared machine; "
        "init's wall-clock median is beside it). The first request's figure is ours "
        "alone: less the CPU inside DynamoDB calls, whose wall time (botocore "
        "before-call to after-call: signing, HTTP to moto on loopback, parsing) is "
        "the DynamoDB ms column. Each init ratio is the median over the rounds of the "
        "ratio within a round (measured close in time, so a slow spell of the "
        "machine weighs on both sides).",
        f"Every child runs with STRATA_BCRYPT_ROUNDS={options.bcrypt_rounds} and with "
        f"{' and '.join(NOT_IN_LAYER)} unimportable, as deployed (the Lambda layer "
        "ships neither; here moto pulls them in); the FastAPI floor and the "
        "dependency floors run the same way. The naive stack can import only its own "
        f"dependencies ({references.NAIVE_PACKAGES}) and runs with LAMBDA_TASK_ROOT "
        "set, so its Tracer loads the X-Ray SDK and patches as in Lambda.",
    ]
    for label, packages in floors.packages.items():
        members = [name for name, floor in floors.of.items() if floor == label]
        notes.append(
            f"{label} ({', '.join(members)}): import of {', '.join(packages)}: the "
            "third-party top-level packages loaded once the function had served its "
            "first request."
        )
    notes += not_in_layer(floors.packages)
    notes.append(
        f"Warm: {options.invocations} invocations per subject in one process (after "
        f"{options.warmup} dropped), in rounds of {options.block} per subject, ports "
        "answered by tests/fakes.py; p50 / p99 of the CPU time of the handler call "
        "alone; the ratio is the median over the rounds of the function's p50 over "
        "the FastAPI floor's p50 in the same round."
    )
    notes.append(
        "Workers: each task worker is handed an SQS event of one message naming a "
        "fresh queued task of its family: email_worker a new user's welcome email "
        "(the user read, a link token issued, the email sent through SES, in moto "
        "with the local sender verified; the task claimed and finished), "
        "users_worker the purge of unverified accounts, billing_worker the "
        "reconciliation with Stripe (the emulator); scheduler the purge job's "
        "EventBridge input (it submits the task: a record and a queue message). "
        "Their success is what they did (the task succeeded, a task was "
        "submitted); their ratios are read as those of the endpoints that touch "
        "AWS."
    )
    notes.append(
        "DynamoDB calls: one successful request each, counted by "
        "tools.roundtrips.measure() (the workers' by the same hook, here)."
    )
    several = {
        name: discovery.count(name, "dynamo_clients")
        for name in discovery.results
        if discovery.count(name, "dynamo_clients") > 1
    }
    if several:
        notes.append(
            "DynamoDB clients made by the first request, where more than one: "
            + ", ".join(f"{name} {n}" for name, n in several.items())
            + " (pynamodb gives each model class its own botocore session and client; "
            "each one adds to the first request's CPU)."
        )
    differing = [
        f"{name} {discovery.count(name, 'dynamo_calls')}"
        for name in counted
        if counted[name] != discovery.count(name, "dynamo_calls")
    ]
    if differing:
        notes.append(
            "The cold first request made a different number of DynamoDB calls: "
            + ", ".join(differing)
            + "."
        )
    notes.append(
        "Targets (benchmark goals, not test assertions): init "
        f"≤{DEP_FLOOR_TARGET}x its dependency floor; functions that touch no AWS "
        f"service ≤{FASTAPI_FLOOR_TARGET}x the FastAPI floor; warm p50 "
        f"≤{WARM_TARGET}x the FastAPI floor's. "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs shared with "
        "other work: one process's CPU time can swing by a third here, more than "
        "the 10% margins, so judge a near miss again with more --runs."
    )
    return notes


def not_in_layer(dep_floor_packages: dict[str, tuple[str, ...]]) -> list[str]:
    """A note naming the packages the functions loaded that the layer lacks."""
    layer = references.layer_distributions(LAYER_LOCK)
    if layer is None:
        return []
    layer |= references.layer_distributions(STRIPE_LAYER_LOCK) or set()
    shipped = references.top_level_names(layer)
    extra = sorted(
        {name for packages in dep_floor_packages.values() for name in packages}
        - shipped
    )
    if not extra:
        return []
    return [
        "Loaded here but not in the Lambda layers "
        f"({LAYER_LOCK.relative_to(ROOT)}, {STRIPE_LAYER_LOCK.relative_to(ROOT)}): "
        f"{', '.join(extra)}. Optional imports that this environment satisfies "
        "(not blocked: the figures include them)."
    ]
