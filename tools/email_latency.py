"""How long from a sign-up to its verification email, on a throwaway local stack.

    python -m tools.email_latency [--signups N] [--bcrypt-rounds C]

Starts ``strata dev`` on free loopback ports (never ``make dev``'s) with an outbox
in a temporary folder, signs up N accounts one after the other over HTTP, and for
each times the span from sending the request to the verification email appearing
in the outbox (written whole, by a rename), polled every 5 ms. That span is the
whole path: the request's work and its task record, the queue, the poller's long
poll, the worker, the template, SES (moto) and the file. The first sign-up also
pays for the worker's first import; the table shows it apart from the rest.

Prints one line per sign-up, then the median, minimum and maximum of the rest.
Exit status 0, or 1 when an email did not arrive within the timeout.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tools.load import LoadError, local_stack

PASSWORD = "latency-password-1"  # noqa: S105 (a throwaway account)
TIMEOUT = 30.0
POLL = 0.005


class LatencyError(Exception):
    pass


def wait_for_email(outbox: Path, address: str, timeout: float = TIMEOUT) -> float:
    """Block until an email to ``address`` is in ``outbox``; the monotonic time it
    was seen."""
    deadline = time.monotonic() + timeout
    pattern = f"*-{address}-*.eml"
    while time.monotonic() < deadline:
        if any(outbox.glob(pattern)):
            return time.monotonic()
        time.sleep(POLL)
    raise LatencyError(f"no email to {address} within {timeout:.0f}s")


def measure(url: str, outbox: Path, signups: int) -> list[tuple[float, float]]:
    """Per sign-up: (ms to the 201 answer, ms to the email in the outbox)."""
    timings = []
    run = f"{int(time.time()) % 100000:05d}"
    with httpx.Client(base_url=url, timeout=30.0, trust_env=False) as client:
        for n in range(signups):
            username = f"lat{run}n{n:03d}"
            address = f"{username}@example.com"
            sent = time.monotonic()
            answer = client.post(
                "/api/v1/account/signup",
                json={"username": username, "email": address, "password": PASSWORD},
            )
            answered = time.monotonic()
            if answer.status_code != 201:
                raise LatencyError(f"sign-up answered {answer.status_code}: {answer}")
            arrived = wait_for_email(outbox, address)
            timings.append(((answered - sent) * 1000, (arrived - sent) * 1000))
    return timings


def report(timings: Sequence[tuple[float, float]]) -> str:
    lines = ["sign-up  answered (ms)  email in outbox (ms)"]
    for n, (answered, arrived) in enumerate(timings, start=1):
        note = "  (first: the worker's imports)" if n == 1 else ""
        lines.append(f"{n:>7}  {answered:>13.0f}  {arrived:>20.0f}{note}")
    warm = [arrived for _, arrived in timings[1:]] or [timings[0][1]]
    lines.append(
        f"sign-up to email in the outbox, after the first: median "
        f"{statistics.median(warm):.0f} ms, min {min(warm):.0f} ms, "
        f"max {max(warm):.0f} ms (n={len(warm)})"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.email_latency", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--signups", type=int, default=10, help="default 10")
    parser.add_argument(
        "--bcrypt-rounds",
        type=int,
        default=None,
        help="the stack's bcrypt cost (default: the settings' own)",
    )
    args = parser.parse_args(argv)
    if args.signups < 1:
        parser.error("--signups must be at least 1")
    with tempfile.TemporaryDirectory(prefix="strata-latency-") as tmp:
        workdir = Path(tmp)
        outbox = workdir / "outbox"
        try:
            with local_stack(
                workdir, args.bcrypt_rounds, {"STRATA_OUTBOX_DIR": str(outbox)}
            ) as stack:
                timings = measure(stack.url, outbox, args.signups)
        except (LoadError, LatencyError) as exc:
            print(f"email_latency: {exc}", file=sys.stderr)
            return 1
    print(report(timings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
