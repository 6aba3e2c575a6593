"""Where the running local stack is: one JSON file that ``strata dev`` writes.

``strata dev`` records its addresses (the API, moto, the Stripe emulator, the outbox,
the clock offset file) in ``.local/stack.json`` (``$STRATA_STACK_FILE``) once it
serves, and removes the file when it stops. Every other ``strata`` command reads it,
so a stack started on other ports needs no variable in the other terminals; a
variable already set still wins, as a flag wins over a variable.

A file left by a stack that was killed names a process that no longer runs, and is
ignored.
"""

from __future__ import annotations

import json
import os
from collections.abc import MutableMapping
from dataclasses import asdict, dataclass
from pathlib import Path

from functions.runtime.settings import LOCAL_STRIPE_API_KEY, LOCAL_STRIPE_WEBHOOK_SECRET
from stripe_emulator import cli as stripe_cli

ENV_FILE = "STRATA_STACK_FILE"
DEFAULT_FILE = Path(__file__).resolve().parent.parent / ".local" / "stack.json"


@dataclass(frozen=True, slots=True)
class StackInfo:
    pid: int
    api_url: str
    api_port: int
    aws_endpoint_url: str
    aws_port: int
    outbox_dir: str
    stripe_emulator_url: str | None = None
    clock_offset_file: str | None = None


def path(environ: MutableMapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get(ENV_FILE) or DEFAULT_FILE)


def write(info: StackInfo, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written whole, then renamed: a command reading it never sees half a file.
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps(asdict(info), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, target)


def remove(target: Path, pid: int) -> None:
    """Remove ``target`` if the stack of process ``pid`` wrote it (another stack
    started since on the same file keeps its record)."""
    found = read(target, require_running=False)
    if found is not None and found.pid == pid:
        target.unlink(missing_ok=True)


def read(target: Path, *, require_running: bool = True) -> StackInfo | None:
    """The stack recorded in ``target``; None when there is none, the file is not
    one we wrote, or (``require_running``) its process has gone."""
    try:
        raw = json.loads(target.read_text(encoding="utf-8"))
        info = StackInfo(**raw)
    except (OSError, ValueError, TypeError):
        return None
    if require_running and not _running(info.pid):
        return None
    return info


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def apply(info: StackInfo, environ: MutableMapping[str, str] | None = None) -> None:
    """Point this process at the recorded stack: each variable only if unset.

    The AWS port is given as ``AWS_ENDPOINT_PORT``, which the commands already turn
    into moto's endpoint, so an ``AWS_ENDPOINT_URL`` of one's own still wins. The
    Stripe key and webhook secret follow the emulator's URL: the emulator runs
    only with the local ones.
    """
    env = os.environ if environ is None else environ
    if "AWS_ENDPOINT_URL" not in env:
        env.setdefault("AWS_ENDPOINT_PORT", str(info.aws_port))
    env.setdefault("STRATA_OUTBOX_DIR", info.outbox_dir)
    # Emails an invoked handler sends link to this stack's front end.
    env.setdefault("STRATA_APP_BASE_URL", info.api_url)
    if info.stripe_emulator_url and env.get("STRATA_STRIPE_API_KEY") in (
        None,
        "",
        LOCAL_STRIPE_API_KEY,
    ):
        env.setdefault(stripe_cli.ENV_URL, info.stripe_emulator_url)
        env.setdefault("STRATA_STRIPE_API_BASE", info.stripe_emulator_url)
        env["STRATA_STRIPE_API_KEY"] = LOCAL_STRIPE_API_KEY
        env.setdefault("STRATA_STRIPE_WEBHOOK_SECRET", LOCAL_STRIPE_WEBHOOK_SECRET)
    if info.clock_offset_file:
        env.setdefault(stripe_cli.ENV_OFFSET_FILE, info.clock_offset_file)
