"""Debian's Chromium and ChromeDriver for the browser walkthrough
(``tests/e2e/test_browser_walkthrough.py``), installed when missing.

``make test`` runs ``python -m tools.browser start`` before the slow steps: when the
two are missing and ``apt-get`` can install them (root, Debian), it starts the
install in the background (about 80 s on this machine) and returns at once, so the
install overlaps the lint, type and build steps. The test calls ``ready()``, which
waits for an install under way and answers where the browser is, or why there is
none (then the test is skipped, saying so). The install's output is in
``build/chromium-install.log``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "build" / "chromium-install.log"
PID = ROOT / "build" / "chromium-install.pid"
PACKAGES = ("chromium", "chromium-driver")
INSTALL = (
    "apt-get update -qq && "
    "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq " + " ".join(PACKAGES)
)
WAIT_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class Browser:
    chromium: str
    chromedriver: str


def found() -> Browser | None:
    """The installed Chromium and ChromeDriver, if both are."""
    chromium = shutil.which("chromium")
    chromedriver = shutil.which("chromedriver")
    if chromium and chromedriver:
        return Browser(chromium, chromedriver)
    return None


def why_not_installable() -> str | None:
    """Why ``start`` cannot install them here, or None if it can."""
    if shutil.which("apt-get") is None:
        return "no apt-get (not Debian)"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        return "not root, so apt-get cannot install"
    return None


def _running() -> int | None:
    try:
        pid = int(PID.read_text())
    except (OSError, ValueError):
        return None
    try:
        # Ours (the same process started it): reap it if it has ended.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return None
    except ChildProcessError:
        pass  # another process's (make's), reaped by init once it ends
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return pid


def start() -> str:
    """Start installing them in the background unless they are there, being
    installed, or cannot be installed; what happened, in one line."""
    if found() is not None:
        return "chromium: installed"
    if _running() is not None:
        return f"chromium: being installed (see {LOG.relative_to(ROOT)})"
    reason = why_not_installable()
    if reason is not None:
        return f"chromium: not installed and {reason}: the browser test will be skipped"
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("wb") as log:
        process = subprocess.Popen(
            ["/bin/sh", "-c", INSTALL],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    PID.write_text(str(process.pid))
    return f"chromium: installing in the background (see {LOG.relative_to(ROOT)})"


def ready(timeout: float = WAIT_SECONDS) -> Browser | str:
    """The browser, once an install under way has ended; else why there is none."""
    deadline = time.monotonic() + timeout
    while _running() is not None and time.monotonic() < deadline:
        time.sleep(1.0)
    browser = found()
    if browser is not None:
        return browser
    if _running() is not None:
        return f"Chromium's install did not end within {timeout:.0f} s ({LOG})"
    reason = why_not_installable()
    if reason is not None:
        return f"Chromium and ChromeDriver are not installed and {reason}"
    return f"Chromium and ChromeDriver are not installed: `make browser` ({LOG})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.browser", description=__doc__
    )
    parser.add_argument("action", choices=("start", "wait"))
    args = parser.parse_args(argv)
    if args.action == "start":
        print(start(), flush=True)
        return 0
    outcome = ready()
    print(outcome if isinstance(outcome, str) else f"chromium: {outcome.chromium}")
    return 0 if isinstance(outcome, Browser) else 1


if __name__ == "__main__":
    sys.exit(main())
