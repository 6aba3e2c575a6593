"""``.local/stack.json``: the running stack's addresses, which every ``strata``
command reads, behind the flags and variables given to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.runtime.settings import get_settings
from local import stackfile
from local.cli import main


@pytest.fixture
def recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unused_port: int
) -> Iterator[stackfile.StackInfo]:
    """A stack recorded as running (by this very process) in a fresh stack file,
    with nothing of its own in the environment, which gets back what it had."""
    saved = dict(os.environ)
    for name in (
        "AWS_ENDPOINT_PORT",
        "STRATA_STRIPE_EMULATOR_URL",
        "STRATA_CLOCK_OFFSET_FILE",
        "STRATA_OUTBOX_DIR",
        "STRATA_APP_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    info = stackfile.StackInfo(
        pid=os.getpid(),
        api_url="http://127.0.0.1:8123",
        api_port=8123,
        aws_endpoint_url="http://127.0.0.1:4599",
        aws_port=4599,
        outbox_dir=str(tmp_path / "outbox"),
        stripe_emulator_url=f"http://127.0.0.1:{unused_port}",
        clock_offset_file=str(tmp_path / "clock.json"),
    )
    target = tmp_path / "stack.json"
    stackfile.write(info, target)
    monkeypatch.setenv(stackfile.ENV_FILE, str(target))
    yield info
    # The commands under test fill in os.environ as they would for a person.
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()


def test_strata_stripe_finds_the_emulator_of_the_recorded_stack(
    recorded: stackfile.StackInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    # Nothing listens there: the refusal names where the command looked.
    status = main(["stripe", "events"])

    assert status == 1
    assert f"not reachable at {recorded.stripe_emulator_url}" in capsys.readouterr().err


def test_a_variable_wins_over_the_recorded_stack(
    recorded: stackfile.StackInfo,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    unused_port: int,
) -> None:
    mine = f"http://127.0.0.1:{unused_port}/mine"
    monkeypatch.setenv("STRATA_STRIPE_EMULATOR_URL", mine)

    main(["stripe", "events"])

    assert f"not reachable at {mine}" in capsys.readouterr().err


def test_a_command_runs_on_the_clock_of_the_recorded_stack(
    recorded: stackfile.StackInfo, tmp_path: Path
) -> None:
    main(["events", "--out", str(tmp_path / "events")])

    assert get_settings().clock_offset_file == recorded.clock_offset_file


def test_a_command_for_a_deployed_stage_ignores_the_recorded_stack(
    recorded: stackfile.StackInfo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRATA_STAGE", "prod")

    main(["events", "--out", str(tmp_path / "events")])

    assert "STRATA_CLOCK_OFFSET_FILE" not in os.environ


def test_a_stack_file_left_by_a_stopped_process_is_ignored(
    recorded: stackfile.StackInfo,
) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    target = stackfile.path()
    data = json.loads(target.read_text(encoding="utf-8"))
    data["pid"] = int(gone.stdout)
    target.write_text(json.dumps(data), encoding="utf-8")

    assert stackfile.read(target) is None


def test_removing_leaves_the_record_of_another_stack(
    recorded: stackfile.StackInfo,
) -> None:
    stackfile.remove(stackfile.path(), recorded.pid + 1)

    assert stackfile.path().exists()
