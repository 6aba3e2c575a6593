"""The ``strata`` command: the local stack and the management commands.

    strata dev                      moto + tables + queue + the whole API on
                                    loopback, and the queue's worker
    strata create-superadmin ...    make the first super admin (the API cannot)
    strata invoke NAME --event F    run one Lambda handler (an endpoint's or a
                                    worker's) on a sample event
    strata events [--out DIR]       write every endpoint's sample event
    strata migrate [--status]       apply pending data migrations (or list them)
    strata seed                     accounts and a Pro customer on the local stack
    strata stripe COMMAND ...       drive the local Stripe emulator (advance its
                                    clock, fail payments, renew, replay events)

``create-superadmin``, ``invoke``, ``migrate`` and ``seed`` target the running local
stack unless the environment says otherwise: with ``STRATA_STAGE`` unset or
``local`` and no ``AWS_ENDPOINT_URL``, they talk to moto on
``127.0.0.1:$AWS_ENDPOINT_PORT``, which (like the emulator's URL, the outbox and the
clock offset file) comes from the stack file ``strata dev`` writes
(``local.stackfile``) when the environment does not set it, else 4566; with another
stage they use real AWS with whatever credentials the environment has.

Failures are one line on stderr and a non-zero exit status, never a traceback:
1 for a failed operation, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from pydantic import ValidationError

import stripe_emulator
from functions.catalog import (
    BY_NAME,
    EMAIL_SEND,
    ENDPOINTS,
    EXPORTS_READ,
    EXPORTS_WRITE,
    QUEUE_SEND,
    WORKERS,
    WORKERS_BY_NAME,
    Endpoint,
    Worker,
)
from functions.resources import SCHEDULES, TASK_QUEUE
from functions.runtime.settings import (
    LOCAL_STAGE,
    LOCAL_STRIPE_API_KEY,
    LOCAL_STRIPE_WEBHOOK_SECRET,
    Settings,
    get_settings,
)
from functions.sample_events import sample_event, write_events
from local import console, persist, stack, stackfile, stripe_plans
from local import resources as local_resources
from local.harness import FakeLambdaContext
from local.poller import QueuePoller
from local.scheduler import Scheduler
from stripe_emulator import cli as stripe_cli

PROG = "strata"
EXIT_FAILED = 1
EXIT_USAGE = 2
APP_FACTORY = "local.dev_app:build_app"
LOCAL_CLIENT_LIMITS = {
    "STRATA_LOGIN_CLIENT_MAX_FAILURES": "100000",
    "STRATA_EMAIL_PER_CLIENT": "100000",
}
_COOKIE_NAME = "access_token"
# Handlers with these use the queue, the bucket or SES of the running local stack.
_JOB_PERMISSIONS = {QUEUE_SEND, EXPORTS_READ, EXPORTS_WRITE, EMAIL_SEND}


class CliError(Exception):
    """A failure to report as one line on stderr, with its exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``strata`` with ``argv`` (default: the process's); return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.run is not _dev:
            _use_running_stack(args)
        status: int = args.run(args)
    except CliError as exc:
        print(f"{PROG}: {exc.message}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Strata's local stack and management commands."
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    dev = commands.add_parser(
        "dev",
        help="moto, the tables and the whole API on loopback (what `make dev` runs)",
        description="Start moto on 127.0.0.1, create the tables, the task queue, "
        "the export bucket and the email identity, serve every endpoint with "
        "uvicorn and feed the task queue to its worker until Ctrl-C.",
    )
    dev.add_argument(
        "--port",
        type=_port_argument,
        default=None,
        help="the API's port (default: $PORT or 8000)",
    )
    dev.add_argument(
        "--aws-port",
        type=_port_argument,
        default=None,
        help="moto's port (default: $AWS_ENDPOINT_PORT or 4566)",
    )
    dev.add_argument(
        "--stripe-port",
        type=_port_argument,
        default=None,
        help="the Stripe emulator's port (default: $STRIPE_EMULATOR_PORT or "
        f"{stripe_emulator.DEFAULT_PORT})",
    )
    dev.add_argument(
        "--persist",
        action="store_true",
        help="keep the tables and the Stripe emulator's account across restarts, "
        "in .local/state (saved on stop, loaded on start; delete it to start "
        "clean)",
    )
    dev.add_argument(
        "--reload",
        action="store_true",
        help="restart the API whenever a .py file under core/, functions/ or "
        "local/ changes (the task worker keeps the code it started with)",
    )
    dev.set_defaults(run=_dev)

    admin = commands.add_parser(
        "create-superadmin",
        help="create a super admin, the one role the API cannot grant",
        description="Create a super admin in the local stack (default) or, with "
        "STRATA_STAGE set, in that stage on AWS.",
    )
    admin.add_argument("--username", required=True)
    admin.add_argument("--email", required=True)
    admin.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (one trailing newline is dropped) "
        "instead of prompting",
    )
    _stage_argument(admin)
    admin.set_defaults(run=_create_superadmin)

    invoke = commands.add_parser(
        "invoke",
        help="run one endpoint's or worker's Lambda handler on a sample event",
        description="Call FUNCTION's handler(event, context) in this process and "
        "print the response. FUNCTION is a catalog name: "
        + ", ".join([e.name for e in ENDPOINTS] + [w.name for w in WORKERS]),
    )
    invoke.add_argument("function", metavar="FUNCTION")
    invoke.add_argument(
        "--event",
        type=Path,
        default=None,
        help="an API Gateway HTTP API v2 event for an endpoint (default: the "
        "sample its declaration describes, see `strata events`), an SQS event for "
        "a queue worker (default: events/sqs_task.json) or a schedule's event for "
        "a scheduled one (default: events/schedule_<its first job>.json)",
    )
    invoke.add_argument(
        "--cookie",
        metavar="TOKEN",
        help=f"send the session cookie {_COOKIE_NAME}=TOKEN with the event",
    )
    invoke.set_defaults(run=_invoke)

    events = commands.add_parser(
        "events",
        help="write every endpoint's sample event, built from its declaration",
        description="Write DIR/<endpoint>.json for every endpoint: the API Gateway "
        "HTTP API v2 event `strata invoke` sends it by default.",
    )
    events.add_argument("--out", type=Path, default=Path("build/events"))
    events.set_defaults(run=_events)

    migrate = commands.add_parser(
        "migrate",
        help="apply the pending data migrations, in order",
        description="Apply every data migration not yet applied, to the local "
        "stack (default) or, with STRATA_STAGE set, to that stage on AWS. Safe to "
        "run twice and to interrupt: a rerun resumes where it stopped.",
    )
    migrate.add_argument(
        "--status", action="store_true", help="only list migrations and their state"
    )
    _stage_argument(migrate)
    migrate.set_defaults(run=_migrate)

    seed = commands.add_parser(
        "seed",
        help="a super admin, an admin, two users and a Pro customer on the "
        "running local stack",
        description="Create, on the running local stack, the accounts a "
        "walkthrough needs (verified emails, one password) and have one of them "
        "buy Pro through the Stripe emulator; print their credentials. Running it "
        "again creates only what is missing.",
    )
    seed.add_argument(
        "--api-url",
        metavar="URL",
        help="the running API (default: the one `strata dev` recorded, else "
        "http://127.0.0.1:$PORT)",
    )
    seed.set_defaults(run=_seed)

    stripe_cli.add_parser(commands, stripe_plans.register_webhook).set_defaults(
        run=_stripe
    )
    return parser


def _stage_argument(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--stage",
        metavar="NAME",
        help="a deployed stage: read its tables and secrets from the outputs of "
        "the CloudFormation stack strata-NAME (needs AWS credentials)",
    )


def _use_running_stack(args: argparse.Namespace) -> None:
    """Aim at the stack ``strata dev`` recorded, for a command on the local stage:
    its ports fill in only what flags and the environment leave unset."""
    if getattr(args, "stage", None) or os.environ.get("STRATA_STAGE") not in (
        None,
        "",
        LOCAL_STAGE,
    ):
        return
    running = stackfile.read(stackfile.path())
    if running is not None:
        stackfile.apply(running)
        get_settings.cache_clear()


# --- strata dev ------------------------------------------------------------------


class _Terminated(Exception):
    """SIGTERM, turned into an exception so that cleanup runs as for Ctrl-C."""


def _on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    raise _Terminated()


def _dev(args: argparse.Namespace) -> int:
    """Serve the local stack until SIGINT or SIGTERM, then stop moto and return 0.

    Refuses to start (``CliError``) when a port is taken or the stage is not local.
    """
    port = (
        args.port
        if args.port is not None
        else _env_port("PORT", stack.DEFAULT_APP_PORT)
    )
    aws_port = (
        args.aws_port
        if args.aws_port is not None
        else _env_port("AWS_ENDPOINT_PORT", stack.DEFAULT_AWS_PORT)
    )
    if port == aws_port:
        raise CliError(f"the API and moto cannot share port {port}", EXIT_USAGE)
    stripe_port = None
    if _wants_stripe_emulator():
        stripe_port = (
            args.stripe_port
            if args.stripe_port is not None
            else _env_port("STRIPE_EMULATOR_PORT", stripe_emulator.DEFAULT_PORT)
        )
    if stripe_port in (port, aws_port):
        raise CliError(
            f"the Stripe emulator cannot share port {stripe_port} with the API or "
            "moto; set STRIPE_EMULATOR_PORT or --stripe-port",
            EXIT_USAGE,
        )
    stage = os.environ.get("STRATA_STAGE") or None
    if stage not in (None, LOCAL_STAGE):
        raise CliError(
            f"`strata dev` runs the local stage only, but STRATA_STAGE={stage}; "
            "unset it"
        )
    # Every port is checked before anything starts, so a clash costs nothing.
    try:
        stack.ensure_port_free(aws_port, "wanted for moto; set AWS_ENDPOINT_PORT")
        if stripe_port is not None:
            stack.ensure_port_free(
                stripe_port,
                "wanted for the Stripe emulator; set STRIPE_EMULATOR_PORT",
            )
        app_socket = stack.bind_port(port, "wanted for the API; set PORT")
    except stack.StackError as exc:
        raise CliError(str(exc)) from None

    # The JSON lines are what Lambda gets; a person at this terminal reads these.
    console.use_readable_logs()
    # The business counts are CloudWatch's (embedded metric JSON on stdout); here
    # they would be a JSON line after every request and task.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    # Every link the stack hands a person (emails, Checkout's return, the portal's)
    # lands on the dev front end of this very stack, unless told otherwise.
    os.environ.setdefault("STRATA_APP_BASE_URL", f"http://{stack.LOOPBACK}:{port}")
    get_settings.cache_clear()
    endpoint = stack.use_local_aws(aws_port)
    # Locally every request comes from loopback, one "client": the per-client
    # limits would hold back everything a developer (or the e2e tests) does. The
    # per-username and per-address limits stay as they are.
    for name, value in LOCAL_CLIENT_LIMITS.items():
        os.environ.setdefault(name, value)
    # moto's werkzeug logs every AWS call at INFO; the API's access log is the one
    # worth reading, and werkzeug's warnings and errors still get through.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if endpoint != stack.local_endpoint(aws_port):
        print(f"using AWS_ENDPOINT_URL={endpoint} from the environment", flush=True)
    clock_file = _use_stripe_emulator(stripe_port) if stripe_port else None
    previous_sigterm = signal.signal(signal.SIGTERM, _on_sigterm)
    stack_file = stackfile.path()
    state_dir = persist.state_dir()
    table_names: list[str] = []
    # Saved on stop only once loaded: a stop mid-start must not overwrite the
    # saved state with a stack that never had it.
    state_loaded = False
    moto: stack.MotoServer | None = None
    poller: QueuePoller | None = None
    scheduler: Scheduler | None = None
    stripe: stripe_emulator.Emulator | None = None
    try:
        if stripe_port is not None:
            stripe = _start_stripe_emulator(stripe_port, port, clock_file)
        else:
            print(
                "Stripe: the key in STRATA_STRIPE_API_KEY is not the local "
                "emulator's, so Stripe itself is used (no emulator started)",
                flush=True,
            )
        moto = stack.start_moto(aws_port)
        tables = _create_tables(endpoint)
        print(
            f"moto on {stack.local_endpoint(aws_port)}; tables: "
            + ", ".join(
                f"{t.name} ({'created' if t.created else 'existing'})" for t in tables
            ),
            flush=True,
        )
        table_names = [t.name for t in tables]
        _restore_state(args.persist, state_dir, stripe)
        state_loaded = True
        poller = _start_jobs(endpoint)
        scheduler = _start_scheduler()
        record = stackfile.StackInfo(
            pid=os.getpid(),
            api_url=f"http://{stack.LOOPBACK}:{port}",
            api_port=port,
            aws_endpoint_url=endpoint,
            aws_port=aws_port,
            outbox_dir=str(local_resources.use_outbox()),
            stripe_emulator_url=stripe.url if stripe is not None else None,
            clock_offset_file=str(clock_file) if clock_file else None,
        )
        _serve(
            app_socket,
            port,
            endpoint,
            on_ready=lambda: stackfile.write(record, stack_file),
            reload=args.reload,
        )
    except (KeyboardInterrupt, _Terminated):
        pass  # the expected way to stop: fall through to the cleanup below
    except stack.StackError as exc:
        raise CliError(str(exc)) from None
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm)
        stackfile.remove(stack_file, os.getpid())
        app_socket.close()
        if scheduler is not None:
            scheduler.stop()
        if poller is not None:
            poller.stop()
        if args.persist and state_loaded and moto is not None:
            _save_state(state_dir, table_names, stripe)
        if moto is not None:
            moto.stop()
        if stripe is not None:
            stripe.stop()
    print("strata dev stopped", flush=True)
    return 0


def _restore_state(
    wanted: bool, directory: Path, stripe: stripe_emulator.Emulator | None
) -> None:
    if not wanted:
        print(
            "state: fresh, and lost on stop (`strata dev --persist`, or "
            "`make dev PERSIST=1`, keeps it in .local/state)",
            flush=True,
        )
        return
    dynamodb = local_resources.client("dynamodb", _settings().region)
    items = persist.restore_tables(dynamodb, directory)
    objects = persist.restore_stripe(stripe, directory) if stripe else None
    if items is None and objects is None:
        print(f"state: nothing saved yet; kept in {directory} on stop", flush=True)
        return
    print(
        f"state: loaded from {directory} ({items or 0} items, {objects or 0} Stripe "
        f"objects); saved there again on stop. To start clean: rm -r {directory}",
        flush=True,
    )


def _save_state(
    directory: Path, tables: list[str], stripe: stripe_emulator.Emulator | None
) -> None:
    try:
        dynamodb = local_resources.client("dynamodb", _settings().region)
        items = persist.save_tables(dynamodb, tables, directory)
        objects = persist.save_stripe(stripe, directory) if stripe else 0
    except Exception as exc:  # botocore's or the disk's: the stop goes on
        print(f"state: NOT saved to {directory}: {_cause(exc)}", flush=True)
        return
    print(
        f"state: saved to {directory} ({items} items, {objects} Stripe objects)",
        flush=True,
    )


def _wants_stripe_emulator() -> bool:
    """The emulator, unless the environment names a Stripe key of its own."""
    key = os.environ.get("STRATA_STRIPE_API_KEY", "")
    return not key or key == LOCAL_STRIPE_API_KEY


def _use_stripe_emulator(port: int) -> Path:
    """Point the API's Stripe adapter (and `strata stripe`) at the emulator on
    ``port``, before any setting is read; return the clock offset file."""
    url = f"http://{stack.LOOPBACK}:{port}"
    clock_file = local_resources.use_outbox().parent / "stripe-clock-offset.json"
    os.environ.update(
        {
            "STRATA_STRIPE_API_BASE": url,
            "STRATA_STRIPE_API_KEY": LOCAL_STRIPE_API_KEY,
            "STRATA_STRIPE_WEBHOOK_SECRET": LOCAL_STRIPE_WEBHOOK_SECRET,
            stripe_cli.ENV_URL: url,
            stripe_cli.ENV_OFFSET_FILE: str(clock_file),
        }
    )
    get_settings.cache_clear()
    return clock_file


def _start_stripe_emulator(
    port: int, api_port: int, clock_file: Path | None
) -> stripe_emulator.Emulator:
    webhook_url = f"http://{stack.LOOPBACK}:{api_port}{stripe_emulator.WEBHOOK_PATH}"
    try:
        prices = stripe_plans.plan_prices(_settings())
    except (OSError, ValueError) as exc:  # the plans file: missing or invalid
        raise CliError(
            f"could not read the plans for the Stripe emulator: {exc}"
        ) from None
    try:
        # The emulator resets the offset file to 0 and rewrites it on every advance.
        emulator = stripe_plans.start(
            port,
            webhook_url,
            LOCAL_STRIPE_WEBHOOK_SECRET,
            prices,
            clock_offset_file=str(clock_file) if clock_file else None,
        )
    except OSError:
        raise CliError(
            str(
                stack.PortInUse(
                    port, "wanted for the Stripe emulator; set STRIPE_EMULATOR_PORT"
                )
            )
        ) from None
    print(f"Stripe emulator on {emulator.url} (webhooks to {webhook_url})", flush=True)
    return emulator


def _create_tables(endpoint: str) -> list[stack.TableStatus]:
    from core.adapters.dynamodb.errors import storage_errors
    from core.application.errors import DependencyUnavailable

    settings = _settings()
    try:
        with storage_errors():
            return stack.create_tables(settings)
    except DependencyUnavailable as exc:
        raise CliError(
            f"could not create the tables at {endpoint}: {_cause(exc)}"
        ) from None


def _start_jobs(endpoint: str) -> QueuePoller:
    """The queue, bucket and email identity in moto, their settings in this
    process's environment (the app and the worker read them), the outbox, and the
    poller that runs the queue worker."""
    outbox = local_resources.use_outbox()
    settings = _settings()
    try:
        created = local_resources.create_resources(
            settings.region, sender=os.environ.get("STRATA_EMAIL_FROM")
        )
    except Exception as exc:  # botocore's errors: moto did not answer as it should
        raise CliError(
            f"could not create the queue, bucket and email identity at {endpoint}: "
            f"{_cause(exc)}"
        ) from None
    os.environ.update(created.environment())
    get_settings.cache_clear()
    print(
        f"task queue {created.queue_url}; export bucket {created.bucket}; "
        f"mail from {created.sender}",
        flush=True,
    )
    print(f"outbox: every email sent is also written to {outbox}", flush=True)
    # The catalog's queue worker: what the event source feeds in AWS.
    (worker,) = [w for w in WORKERS if w.trigger == "queue"]
    poller = QueuePoller(
        local_resources.client("sqs", settings.region),
        created.queue_url,
        created.queue_arn,
        settings.region,
        load_handler=lambda: import_module(worker.module).handler,
        make_context=lambda: FakeLambdaContext(
            function_name=f"strata-{LOCAL_STAGE}-{worker.name.replace('_', '-')}",
            region=settings.region,
            timeout_ms=TASK_QUEUE.worker_timeout_seconds * 1000,
        ),
    )
    poller.start()
    return poller


def _start_scheduler() -> Scheduler:
    """The catalog's scheduled function, called as its EventBridge rules would,
    on the stack's clock (the one `strata stripe advance` moves)."""
    from core.adapters.clock import OffsetClock, SystemClock

    settings = _settings()
    (worker,) = [w for w in WORKERS if w.trigger == "schedule"]
    clock = (
        OffsetClock(settings.clock_offset_file)
        if settings.clock_offset_file
        else SystemClock()
    )
    scheduler = Scheduler(
        SCHEDULES,
        load_handler=lambda: import_module(worker.module).handler,
        make_context=lambda: FakeLambdaContext(
            function_name=f"strata-{LOCAL_STAGE}-{worker.name.replace('_', '-')}",
            region=settings.region,
        ),
        now=clock.now,
    )
    scheduler.start()
    print(
        "scheduled: "
        + ", ".join(f"{s.job} every {s.rate_value} {s.rate_unit}" for s in SCHEDULES)
        + " (on the stack's clock)",
        flush=True,
    )
    return scheduler


def _serve(
    app_socket: socket.socket,
    port: int,
    aws_endpoint: str,
    on_ready: Callable[[], None],
    *,
    reload: bool,
) -> None:
    # uvicorn is a dev dependency, like moto: imported only by `strata dev`.
    from local import devserver

    url = f"http://{stack.LOOPBACK}:{port}"
    devserver.serve(
        app_socket,
        APP_FACTORY,
        f"Strata API on {url} - Swagger UI: {url}/docs "
        f"(AWS: {aws_endpoint}). Ctrl-C stops it.",
        on_ready,
        reload=reload,
    )


def _parse_port(raw: str) -> int | None:
    raw = raw.strip()
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        return None
    return int(raw)


def _port_argument(raw: str) -> int:
    port = _parse_port(raw)
    if port is None:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a port number (1-65535)")
    return port


def _env_port(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw.strip():
        return default
    port = _parse_port(raw)
    if port is None:
        raise CliError(f"{name}={raw!r} is not a port number (1-65535)", EXIT_USAGE)
    return port


# --- strata stripe ----------------------------------------------------------------


def _stripe(args: argparse.Namespace) -> int:
    try:
        return stripe_cli.run(args)
    except stripe_cli.ControlError as exc:
        raise CliError(exc.message) from None


# --- targeting: the local stack or a deployed stage ----------------------------


def _target(stage_name: str | None = None) -> Settings:
    """Point AWS clients at ``stage_name``'s deployed stack, or at the local stack
    unless the environment names a stage or an endpoint of its own; then load the
    settings."""
    if stage_name:
        from local.deployed import StageNotFound, stage_environment

        try:
            os.environ.update(stage_environment(stage_name))
        except StageNotFound as exc:
            raise CliError(str(exc)) from None
        get_settings.cache_clear()
    stage = os.environ.get("STRATA_STAGE") or LOCAL_STAGE
    if stage == LOCAL_STAGE and "AWS_ENDPOINT_URL" not in os.environ:
        stack.use_local_aws(_env_port("AWS_ENDPOINT_PORT", stack.DEFAULT_AWS_PORT))
    return _settings()


def _require_reachable(settings: Settings) -> None:
    """Refuse early and clearly when the local stack is down, rather than after
    botocore's retries. A deployed stage is left to botocore's own errors."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if settings.is_local and endpoint and not stack.is_reachable(endpoint):
        raise CliError(
            f"the local stack is not reachable at {endpoint}: is `make dev` running?"
        )


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
            for e in exc.errors()
        )
        raise CliError(f"invalid settings: {problems}") from None


def _unavailable(exc: BaseException, settings: Settings) -> CliError:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if settings.is_local:
        where = endpoint or "AWS"
        return CliError(
            f"the local stack at {where} did not answer as expected ({_cause(exc)}): "
            "is `make dev` running?"
        )
    return CliError(f"DynamoDB for stage {settings.stage!r} failed: {_cause(exc)}")


def _cause(exc: BaseException) -> str:
    """The innermost error's message, in one line: what actually went wrong."""
    inner, seen = exc, {id(exc)}
    while (nxt := inner.__cause__ or inner.__context__) is not None:
        if id(nxt) in seen:
            break
        inner = nxt
        seen.add(id(inner))
    return " ".join(str(inner).split()) or type(inner).__name__


# --- strata migrate --------------------------------------------------------------


def _migrate(args: argparse.Namespace) -> int:
    from core.adapters.clock import SystemClock
    from core.adapters.dynamodb import migrations
    from core.adapters.dynamodb.models import bind_tables
    from core.application.errors import DependencyUnavailable

    settings = _target(args.stage)
    _require_reachable(settings)
    bind_tables(
        settings.users_table,
        settings.sessions_table,
        settings.region,
        tasks_table=settings.tasks_table,
        orgs_table=settings.orgs_table,
    )
    try:
        if args.status:
            for migration, applied_at in migrations.status():
                state = (
                    f"applied {applied_at:%Y-%m-%d %H:%M:%S}"
                    if applied_at
                    else "pending"
                )
                print(f"{migration.id}  {state}  {migration.description}")
            return 0
        applied = migrations.apply_pending(
            SystemClock().now, progress=lambda line: print(line, flush=True)
        )
    except migrations.MigrationLocked as exc:
        raise CliError(str(exc)) from None
    except DependencyUnavailable as exc:
        raise _unavailable(exc, settings) from None
    if not applied:
        print("nothing to migrate: every migration is applied")
    return 0


# --- strata create-superadmin ----------------------------------------------------


def _create_superadmin(args: argparse.Namespace) -> int:
    from core.application.errors import (
        DependencyUnavailable,
        EmailTaken,
        UsernameTaken,
    )
    from core.domain.errors import DomainError
    from core.domain.password import PasswordPolicy
    from core.domain.user import Email, Username
    from functions.runtime.container import build_container

    password = _read_password(args.password_stdin)
    settings = _target(args.stage)
    # Bad values are refused before any network call, with the domain's own words;
    # the registrar checks them again, as it does for every caller.
    try:
        Username(args.username)
        Email(args.email)
        PasswordPolicy(min_length=settings.password_min_length).check(password)
    except DomainError as exc:
        raise CliError(exc.message) from None
    _require_reachable(settings)
    container = build_container(settings)
    try:
        user = container.create_super_admin().execute(
            args.username, args.email, password
        )
    except UsernameTaken:
        raise CliError(f"the username {args.username!r} is taken") from None
    except EmailTaken:
        raise CliError(f"the email {args.email!r} is already registered") from None
    except DomainError as exc:
        raise CliError(exc.message) from None
    except DependencyUnavailable as exc:
        raise _unavailable(exc, settings) from None
    print(f"created super admin {user.username} (id {user.id})")
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.read()
        # Exactly one newline, the one `echo` or a here-string adds: anything else
        # may be part of the password.
        if password.endswith("\r\n"):
            return password[:-2]
        if password.endswith("\n"):
            return password[:-1]
        return password
    try:
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password (again): ")
    except EOFError:
        raise CliError(
            "no password given; type it at the prompt or use --password-stdin"
        ) from None
    if first != second:
        raise CliError("the passwords do not match")
    return first


# --- strata seed -------------------------------------------------------------------


def _seed(args: argparse.Namespace) -> int:
    # httpx, like uvicorn, is a dev dependency: only the local stack needs it.
    import httpx

    from core.application.errors import DependencyUnavailable, EmailTaken
    from core.domain.errors import DomainError
    from functions.runtime.container import build_container
    from local import seed

    settings = _target()
    if not settings.is_local:
        raise CliError("`strata seed` is for the local stack only", EXIT_USAGE)
    _require_reachable(settings)
    running = stackfile.read(stackfile.path())
    api_url = (
        args.api_url
        or (running.api_url if running else None)
        or f"http://{stack.LOOPBACK}:{_env_port('PORT', stack.DEFAULT_APP_PORT)}"
    ).rstrip("/")
    container = build_container(settings)
    try:
        accounts = seed.create_accounts(container)
        bought = [seed.buy(api_url, a) for a, _ in accounts if a.pays]
    except EmailTaken as exc:
        raise CliError(
            f"an address of the seed belongs to another account ({exc}); start "
            "clean with an empty stack"
        ) from None
    except DependencyUnavailable as exc:
        raise _unavailable(exc, settings) from None
    except DomainError as exc:  # the settings' password policy refuses the seed's
        raise CliError(f"the seed's accounts are refused: {exc.message}") from None
    except seed.SeedError as exc:
        raise CliError(str(exc)) from None
    except stripe_cli.ControlError as exc:
        raise CliError(exc.message) from None
    except httpx.TransportError as exc:
        raise CliError(
            f"the API is not reachable at {api_url} ({exc}): is `make dev` running?"
        ) from None
    created = [a for a, new in accounts if new]
    print(f"Accounts on {api_url} (password for all: {seed.PASSWORD}):")
    for account, new in accounts:
        state = "created" if new else "already there"
        if account.pays and any(bought):
            state += f", bought {seed.PAID_PLAN.capitalize()} via the Stripe emulator"
        print(f"  {account.username:<12} {account.label:<12} {state}")
    if not created and not any(bought):
        print("The stack was already seeded: nothing new.")
    print(f"Log in at {api_url}/docs or {api_url}/account.")
    return 0


# --- strata invoke ---------------------------------------------------------------


def _events(args: argparse.Namespace) -> int:
    for path in write_events(args.out, ENDPOINTS):
        print(path)
    return 0


def _default_event(entry: Worker) -> Path:
    if entry.trigger == "queue":
        return Path("events") / "sqs_task.json"
    return Path("events") / f"schedule_{SCHEDULES[0].job}.json"


def _invoke(args: argparse.Namespace) -> int:
    endpoint: Endpoint | Worker | None = BY_NAME.get(args.function)
    if endpoint is None:
        endpoint = WORKERS_BY_NAME.get(args.function)
    if endpoint is None:
        names = ", ".join([e.name for e in ENDPOINTS] + [w.name for w in WORKERS])
        raise CliError(
            f"unknown function {args.function!r}; valid names: {names}", EXIT_USAGE
        )
    if args.cookie is not None and not isinstance(endpoint, Endpoint):
        raise CliError(
            f"--cookie is for endpoints; {endpoint.name} is a worker", EXIT_USAGE
        )
    if args.event is not None:
        event = _load_event(args.event)
    elif isinstance(endpoint, Endpoint):
        event = sample_event(endpoint)
    else:
        event = _load_event(_default_event(endpoint))
    if args.cookie is not None:
        event["cookies"] = _with_session_cookie(event.get("cookies"), args.cookie)
    settings = _target()
    # An endpoint without AWS permissions (health, root) runs without the stack.
    if endpoint.permissions:
        _require_reachable(settings)
        if settings.is_local and _JOB_PERMISSIONS & set(endpoint.permissions):
            settings = _use_local_resources(settings, endpoint.permissions)
    context = FakeLambdaContext(
        function_name=f"strata-{settings.stage}-{endpoint.name}",
        region=settings.region,
    )
    # The handler's JSON log lines (stdout in Lambda) go to stderr here, so that
    # stdout is the response alone, for jq or a file.
    with contextlib.redirect_stdout(sys.stderr):
        response = _call_handler(endpoint, event, context)
    print(json.dumps(response, indent=2))
    return 0


def _use_local_resources(settings: Settings, permissions: Sequence[str]) -> Settings:
    """Point the handler at the queue, bucket and outbox of the running local
    stack, as ``strata dev`` does for its own app and worker."""
    if EMAIL_SEND in permissions:
        local_resources.use_outbox()
    try:
        found = local_resources.existing_environment(settings.region)
    except Exception as exc:  # botocore's errors
        raise _unavailable(exc, settings) from None
    for name, value in found.items():
        os.environ.setdefault(name, value)
    get_settings.cache_clear()
    return _settings()


def _load_event(path: Path) -> dict[str, Any]:
    try:
        event = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CliError(f"no event file at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise CliError(f"{path} is not JSON: {exc}") from None
    if not isinstance(event, dict):
        raise CliError(f"{path} must hold a JSON object, the Lambda event")
    return event


def _with_session_cookie(cookies: Any, token: str) -> list[str]:
    # Replace, not add: the sample events carry a placeholder session cookie.
    kept = [
        c
        for c in (cookies if isinstance(cookies, list) else [])
        if not str(c).startswith(f"{_COOKIE_NAME}=")
    ]
    return [*kept, f"{_COOKIE_NAME}={token}"]


def _call_handler(
    endpoint: Endpoint | Worker, event: dict[str, Any], context: FakeLambdaContext
) -> Any:
    handler = import_module(endpoint.module).handler
    try:
        return handler(event, context)
    except Exception as exc:  # a handler failure is reported, not a CLI crash
        raise CliError(
            f"{endpoint.name} failed on this event: {type(exc).__name__}: {_cause(exc)}"
        ) from None


if __name__ == "__main__":
    sys.exit(main())
