"""``python -m tools.bench.profile`` prints where a function's cold start and warm
call go: every stage of a function without AWS permissions, which builds no
container, and the nesting its figures promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_profile_prints_each_stage_of_a_function_in_cpu_ms() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.bench.profile",
            "root",
            "me",
            "--runs",
            "1",
            "--invocations",
            "5",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    rows = {
        cells[0]: cells[1:]
        for line in done.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| stage")
        for cells in [[cell.strip() for cell in line.strip("|").split("|")]]
    }
    root = {stage: values[0] for stage, values in rows.items()}
    me = {stage: float(values[1]) for stage, values in rows.items()}
    # root has no permissions: its import builds no container.
    assert root["build_container"] == root["DynamoDB client"] == "-"
    assert float(root["warm call"]) > 0
    assert me["DynamoDB client"] < me["build_container"] < me["handler module"]
    assert me["init"] >= me["shared imports"] + me["runtime import"]
    assert me["warm call"] > 0
    assert me["warm call, Mangum alone"] > 0
