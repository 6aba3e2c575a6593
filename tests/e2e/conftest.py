"""The local stack as its users run it: ``strata dev`` in a subprocess, over HTTP.

Every process started here runs in its own process group, which teardown kills
whatever happened, so no test leaves a server behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from local.harness import free_ports

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def clean_env(port: int, aws_port: int) -> dict[str, str]:
    """The test process's environment without its AWS and Strata settings (pytest's
    conftest points at its own moto), plus what a developer would set."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "STRATA_"))
    }
    env.update(
        PORT=str(port),
        AWS_ENDPOINT_PORT=str(aws_port),
        STRATA_BCRYPT_ROUNDS="4",
        PYTHONUNBUFFERED="1",
        # Nothing from the developer's ~/.aws may leak into the run.
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "local.cli", *args]


@dataclass
class DevProcess:
    """One ``strata dev`` subprocess and where its output goes."""

    process: subprocess.Popen[bytes]
    port: int
    aws_port: int
    env: dict[str, str]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def outbox(self) -> Path:
        """Where this stack's mailer writes every email it sends."""
        return Path(self.env["STRATA_OUTBOX_DIR"])

    @property
    def stripe_url(self) -> str:
        """The stack's Stripe emulator (its API and its ``/_emulator`` controls)."""
        return self.env["STRATA_STRIPE_EMULATOR_URL"]

    @property
    def stack_file(self) -> Path:
        """Where this stack records its addresses for the other commands."""
        return Path(self.env["STRATA_STACK_FILE"])

    @property
    def aws_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self) -> None:
        """Poll the health route until it answers; fail with the server's output."""
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(base_url=self.url, timeout=1.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    pytest.fail(
                        f"strata dev exited with {self.process.returncode} before "
                        f"it was ready:\n{self.output()}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/api/v1/").status_code == 200:
                        return
                time.sleep(0.1)
        pytest.fail(f"strata dev not ready after {READY_TIMEOUT}s:\n{self.output()}")

    def interrupt(self, sig: signal.Signals = signal.SIGINT) -> int:
        """Send ``sig`` to the process group and wait for the exit status."""
        os.killpg(self.process.pid, sig)
        return self.process.wait(timeout=STOP_TIMEOUT)

    def kill(self) -> None:
        """End the process group, politely first; never raises."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
                self.interrupt()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=STOP_TIMEOUT)


def spawn_dev(
    log: Path,
    port: int | None = None,
    aws_port: int | None = None,
    settings: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
) -> DevProcess:
    """Start ``strata dev`` on the given (default: free) ports, output to ``log``,
    emails to an outbox beside it (never the repository's); ``settings`` are
    environment variables for it (``STRATA_...``) beyond a developer's."""
    ports = free_ports(3)
    port = port if port is not None else ports[0]
    aws_port = aws_port if aws_port is not None else ports[1]
    env = clean_env(port, aws_port)
    env.update(settings or {})
    env["STRATA_OUTBOX_DIR"] = str(log.with_suffix(".outbox"))
    env["STRATA_STACK_FILE"] = str(log.with_suffix(".stack.json"))
    # Each stack its own Stripe emulator, so stacks never share one by accident.
    env["STRIPE_EMULATOR_PORT"] = str(ports[2])
    env["STRATA_STRIPE_EMULATOR_URL"] = f"http://127.0.0.1:{ports[2]}"
    with log.open("wb") as out:
        # A file, not a pipe: nobody reads a pipe while tests run, and a full one
        # would block the server mid-request.
        process = subprocess.Popen(
            cli("dev", *args),
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return DevProcess(process, port, aws_port, env, log)


StartDev = Callable[..., DevProcess]


@pytest.fixture
def start_dev(tmp_path: Path) -> Iterator[StartDev]:
    """Start ``strata dev`` subprocesses; all of them are killed at teardown."""
    started: list[DevProcess] = []

    def start(
        port: int | None = None, aws_port: int | None = None, *args: str
    ) -> DevProcess:
        dev = spawn_dev(tmp_path / f"dev-{len(started)}.log", port, aws_port, args=args)
        started.append(dev)
        return dev

    try:
        yield start
    finally:
        for dev in started:
            dev.kill()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    """One running local stack shared by a module's tests."""
    dev = spawn_dev(tmp_path_factory.mktemp("stack") / "dev.log")
    try:
        dev.wait_ready()
        yield dev
    finally:
        dev.kill()


# --- billing: the stack's Stripe emulator ------------------------------------------


def stripe_cli(stack: DevProcess, *args: str) -> str:
    """Run ``strata stripe ARGS`` against the stack's emulator, as a developer
    would from another terminal; its one line of output."""
    result = subprocess.run(
        cli("stripe", *args),
        cwd=REPO,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout.strip()


def settle(stack: DevProcess) -> None:
    """Wait until every webhook the emulator has sent so far was delivered."""
    stripe_cli(stack, "flush", "--timeout", "30")


def buy(stack: DevProcess, client: httpx.Client, plan: str = "pro") -> None:
    """Check out ``plan`` and open the checkout page, as the browser would."""
    response = client.post(
        "/api/v1/billing/checkout",
        json={"plan": plan, "interval": "month", "currency": "usd"},
    )
    assert response.status_code == 200, response.text
    url = response.json()["url"]
    assert url.startswith(stack.stripe_url)
    with httpx.Client(trust_env=False, timeout=30.0) as browser:
        page = browser.get(url, follow_redirects=False)
    # Paid: Stripe sends the browser back to the app's success page.
    assert page.status_code == 303, page.text
    assert "/billing/success?session_id=cs_" in page.headers["location"]
    settle(stack)
