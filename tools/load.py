"""``make load``: a bounded locust run against a throwaway local stack.

    python -m tools.load [--users N] [--spawn-rate R] [--duration 30s]
                         [--bcrypt-rounds C]

Starts ``strata dev`` on free loopback ports (never 8000 or 4566, so a developer's
``make dev`` is left alone), waits for it, creates a super admin with
``strata create-superadmin --password-stdin`` and signs up and logs in one account
per simulated user over HTTP. Then it runs locust headless on ``tools/locustfile.py``
for the duration, prints requests per second, failures and p50/p95 latency per
request as a markdown table, and stops the stack's process group whatever happened.
Exit status: 0 when every request succeeded, 1 otherwise, 2 for a usage error.

USERS, SPAWN_RATE, DURATION and STRATA_BCRYPT_ROUNDS in the environment stand in
for the options. Log-ins are bcrypt-bound by design, so the cost in force (the
settings' default unless overridden) is printed beside the numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import httpx
from pydantic import ValidationError

from functions.runtime.settings import Settings
from local.harness import free_ports

REPO = Path(__file__).resolve().parents[1]
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
LOOPBACK = "127.0.0.1"
RESERVED_PORTS = frozenset({8000, 4566})  # what `make dev` takes by default
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
LOCUST_STOP_TIMEOUT = 5  # seconds a user may take to finish its task at the end
LOCUST_GRACE = 60.0  # start-up and shut-down beyond the duration
SEED_WORKERS = 8
PAGE_SIZE = 10
# Throwaway accounts in a throwaway stack.
ADMIN = "load.admin"
PASSWORD = "load-test-password"  # noqa: S105
SEED_ENV = "STRATA_LOAD_SEED"  # read by tools/locustfile.py
FAILURE_LOGGER = "strata.load"  # where tools/locustfile.py logs each failure
DEFAULT_ROUNDS: int = Settings.model_fields["bcrypt_rounds"].default
EXIT_FAILED = 1
EXIT_USAGE = 2
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?")


class LoadError(Exception):
    """The run could not be carried out; the message is for a human."""


class _Terminated(Exception):
    """SIGTERM, raised so that the stack is torn down as for Ctrl-C."""


def _on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    raise _Terminated()


# --- options ---------------------------------------------------------------------


def duration_seconds(raw: str) -> int:
    """Seconds in a locust time span (``90``, ``30s``, ``5m``, ``1h30m``)."""
    match = _DURATION.fullmatch(raw.strip())
    if not raw.strip() or match is None:
        raise ValueError(f"{raw!r} is not a duration like 30s, 5m or 1h30m")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise ValueError(f"{raw!r}: the duration must be positive")
    return total


def _duration(raw: str) -> str:
    try:
        duration_seconds(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return raw.strip()


def _positive_int(raw: str) -> int:
    value = int(raw) if raw.strip().isdigit() else 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a positive whole number")
    return value


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{raw!r} is not a positive number")
    return value


def _rounds(raw: str) -> int:
    try:
        return Settings.model_validate({"bcrypt_rounds": raw}).bcrypt_rounds
    except ValidationError as exc:
        message = exc.errors()[0]["msg"]
        raise argparse.ArgumentTypeError(f"{raw!r}: {message}") from None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m tools.load",
        description="A bounded locust run against a throwaway local stack.",
    )
    parser.add_argument(
        "--users",
        type=_positive_int,
        default=env.get("USERS") or "20",
        help="simulated users, each with an account of its own ($USERS, 20)",
    )
    parser.add_argument(
        "--spawn-rate",
        type=_positive_float,
        default=env.get("SPAWN_RATE") or "5",
        help="users started per second ($SPAWN_RATE, 5)",
    )
    parser.add_argument(
        "--duration",
        type=_duration,
        default=env.get("DURATION") or "30s",
        help="how long locust runs, e.g. 30s, 5m ($DURATION, 30s)",
    )
    parser.add_argument(
        "--bcrypt-rounds",
        type=_rounds,
        default=env.get("STRATA_BCRYPT_ROUNDS") or None,
        help=f"the stack's bcrypt cost ($STRATA_BCRYPT_ROUNDS, {DEFAULT_ROUNDS})",
    )
    return parser.parse_args(argv)


# --- the stack ---------------------------------------------------------------------


def stack_env(port: int, aws_port: int, rounds: int | None) -> dict[str, str]:
    """This environment without AWS or Strata settings, so that nothing but the
    stack on loopback is ever reached, plus the ports and the bcrypt cost."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "STRATA_"))
    }
    env.update(
        PORT=str(port),
        AWS_ENDPOINT_PORT=str(aws_port),
        PYTHONUNBUFFERED="1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    if rounds is not None:
        env["STRATA_BCRYPT_ROUNDS"] = str(rounds)
    return env


def _spawn(
    command: list[str], env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        # A file, not a pipe: nobody reads a pipe during the run, and a full one
        # would block the writer. A session of its own, so its group can be ended.
        return subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the process's group, politely first; never raises."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_TIMEOUT)
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_TIMEOUT)


def _tail(log: Path, lines: int = 30) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    url: str
    env: dict[str, str]
    log: Path

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(base_url=self.url, timeout=1.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise LoadError(
                        f"strata dev exited with {self.process.returncode}:\n"
                        + _tail(self.log)
                    )
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/api/v1/").status_code == 200:
                        return
                time.sleep(0.2)
        raise LoadError(
            f"strata dev not ready after {READY_TIMEOUT:.0f}s:\n" + _tail(self.log)
        )


@contextlib.contextmanager
def local_stack(
    workdir: Path, rounds: int | None, extra_env: Mapping[str, str] | None = None
) -> Iterator[Stack]:
    """``strata dev`` on free ports, ready; its process group ends on the way out.
    ``extra_env`` adds settings of the caller's (``STRATA_OUTBOX_DIR``)."""
    port, aws_port = free_ports(2, LOOPBACK, avoid=RESERVED_PORTS)
    env = stack_env(port, aws_port, rounds) | dict(extra_env or {})
    log = workdir / "stack.log"
    process = _spawn([sys.executable, "-m", "local.cli", "dev"], env, log)
    try:
        stack = Stack(process, f"http://{LOOPBACK}:{port}", env, log)
        stack.wait_ready()
        yield stack
    finally:
        _stop(process)


# --- seeding -----------------------------------------------------------------------


def _log_in(client: httpx.Client, username: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/account/login", json={"username": username, "password": PASSWORD}
    )
    token = client.cookies.get("access_token")
    if response.status_code != 204 or not token:
        raise LoadError(
            f"log-in of {username} answered {response.status_code}: {response.text}"
        )
    return {"username": username, "password": PASSWORD, "token": token}


def _user(url: str, index: int) -> dict[str, str]:
    username = f"load.user-{index:05d}"
    with httpx.Client(base_url=url, timeout=60.0, trust_env=False) as client:
        response = client.post(
            "/api/v1/account/signup",
            json={
                "username": username,
                "email": f"{username}@example.com",
                "password": PASSWORD,
            },
        )
        if response.status_code != 201:
            raise LoadError(
                f"sign-up of {username} answered {response.status_code}: "
                + response.text
            )
        return _log_in(client, username)


def seed(stack: Stack, users: int) -> dict[str, Any]:
    """A super admin (through the CLI) and ``users`` accounts (over HTTP), each
    logged in once: the locustfile starts from these sessions."""
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "local.cli",
            "create-superadmin",
            "--username",
            ADMIN,
            "--email",
            f"{ADMIN}@example.com",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        cwd=REPO,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if created.returncode != 0:
        raise LoadError(f"create-superadmin failed: {created.stderr.strip()}")
    with httpx.Client(base_url=stack.url, timeout=60.0, trust_env=False) as client:
        admin = _log_in(client, ADMIN)
    with ThreadPoolExecutor(max_workers=min(SEED_WORKERS, users)) as pool:
        accounts = list(pool.map(lambda i: _user(stack.url, i), range(users)))
    return {"admin": admin, "users": accounts, "page_size": PAGE_SIZE}


# --- locust and its numbers ------------------------------------------------------


def run_locust(
    stack: Stack, args: argparse.Namespace, seed_file: Path, workdir: Path
) -> int:
    """Run locust headless to the end of the duration; its exit status."""
    env = {**stack.env, SEED_ENV: str(seed_file)}
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        f"{args.spawn_rate:g}",
        "--run-time",
        args.duration,
        "--stop-timeout",
        str(LOCUST_STOP_TIMEOUT),
        "--host",
        stack.url,
        "--only-summary",
        # Written at shutdown with the final numbers (the CSV files lag a second).
        "--json-file",
        str(workdir / "locust"),
    ]
    log = workdir / "locust.log"
    process = _spawn(command, env, log)
    limit = duration_seconds(args.duration) + LOCUST_STOP_TIMEOUT + LOCUST_GRACE
    try:
        return process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        raise LoadError(
            f"locust still running {limit:.0f}s after its start:\n" + _tail(log)
        ) from None
    finally:
        _stop(process)


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    requests: int
    failures: int
    rps: float
    p50: int
    p95: int


def percentile(buckets: dict[int, int], count: int, share: float) -> int:
    """Locust's own percentile over its response-time buckets (ms, rounded to two
    significant digits above 100 ms), so the numbers match its reports."""
    below = int(count * share)
    seen = 0
    for response_time in sorted(buckets, reverse=True):
        seen += buckets[response_time]
        if count - seen <= below:
            return response_time
    return 0


def _row(name: str, entries: Sequence[dict[str, Any]], seconds: float) -> Row:
    buckets: dict[int, int] = {}
    for entry in entries:
        for response_time, hits in entry["response_times"].items():
            buckets[int(response_time)] = buckets.get(int(response_time), 0) + hits
    count = sum(int(entry["num_requests"]) for entry in entries)
    return Row(
        name=name,
        requests=count,
        failures=sum(int(entry["num_failures"]) for entry in entries),
        rps=count / seconds,
        p50=percentile(buckets, count, 0.50),
        p95=percentile(buckets, count, 0.95),
    )


def read_stats(path: Path, log: Path) -> list[Row]:
    """One row per request type from locust's final JSON report, then the total.

    Every rate is over the same span, from the first request to the last, so the
    rows add up to the total."""
    if not path.exists():
        raise LoadError("locust wrote no statistics:\n" + _tail(log))
    entries: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    if not entries:
        return []
    first = min(float(entry["start_time"]) for entry in entries)
    last = max(float(entry["last_request_timestamp"] or first) for entry in entries)
    seconds = max(last - first, 1e-9)
    rows = [
        _row(f"{entry['method']} {entry['name']}", [entry], seconds)
        for entry in sorted(entries, key=lambda e: (e["name"], e["method"]))
    ]
    return [*rows, _row("**total**", entries, seconds)]


def failure_reasons(log: Path, most: int = 10) -> list[str]:
    """The locustfile's failure lines, counted, the most frequent first."""
    marker = f"/WARNING/{FAILURE_LOGGER}: "
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    reasons = Counter(
        line.split(marker, 1)[1] for line in text.splitlines() if marker in line
    )
    return [f"{count}x {reason}" for reason, count in reasons.most_common(most)]


def markdown(rows: Sequence[Row]) -> str:
    lines = [
        "| request | requests | failures | req/s | p50 ms | p95 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.name} | {r.requests} | {r.failures} | {r.rps:.1f} | {r.p50} | {r.p95} |"
        for r in rows
    ]
    return "\n".join(lines)


# --- main --------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    rounds = args.bcrypt_rounds
    cost = (
        f"{DEFAULT_ROUNDS} (the default)" if rounds is None else f"{rounds} (override)"
    )
    with (
        tempfile.TemporaryDirectory(prefix="strata-load-") as tmp,
        local_stack(Path(tmp), rounds) as stack,
    ):
        workdir = Path(tmp)
        print(f"stack ready on {stack.url}; bcrypt cost {cost}", flush=True)
        started = time.monotonic()
        seed_file = workdir / "seed.json"
        seed_file.write_text(json.dumps(seed(stack, args.users)), encoding="utf-8")
        print(
            f"seeded a super admin and {args.users} users in "
            f"{time.monotonic() - started:.1f}s; running locust for {args.duration} "
            f"({args.users} users, {args.spawn_rate:g}/s)",
            flush=True,
        )
        status = run_locust(stack, args, seed_file, workdir)
        locust_log = workdir / "locust.log"
        rows = read_stats(workdir / "locust.json", locust_log)
        # The locustfile logs every failure with its reason.
        reasons = failure_reasons(locust_log)
        log_tail = _tail(locust_log)
    version = importlib.metadata.version("locust")
    print(
        f"\n{args.users} users, spawn {args.spawn_rate:g}/s, {args.duration}, "
        f"bcrypt cost {cost}, locust {version}, page size {PAGE_SIZE}\n"
    )
    print(markdown(rows))
    total = rows[-1] if rows else None
    if total is None or total.requests == 0 or total.failures or status != 0:
        print(f"\nlocust exited with {status}", file=sys.stderr)
        if reasons:
            print("failures, the most frequent first:", file=sys.stderr)
            print("\n".join(f"- {reason}" for reason in reasons), file=sys.stderr)
        else:
            print(f"its log ends:\n{log_tail}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        importlib.metadata.version("locust")
    except importlib.metadata.PackageNotFoundError:
        print(
            "load: locust is not installed: pip install -e '.[load]'", file=sys.stderr
        )
        return EXIT_USAGE
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return run(args)
    except LoadError as exc:
        print(f"load: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (KeyboardInterrupt, _Terminated):
        print("load: interrupted; the stack is stopped", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
