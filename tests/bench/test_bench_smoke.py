"""``python -m tools.bench --smoke`` runs end to end and prints its table.

The figures of a smoke run mean nothing (one process, a few invocations); this checks
that the functions it is asked for and the three references get a row, that every
figure parses, and that what must be positive is. It measures two functions, not
all: one without AWS permissions and one that reads DynamoDB and calls Stripe,
since each function's row is made by the same code (a full run is ``make bench``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from functions.catalog import ENDPOINTS

ROOT = Path(__file__).resolve().parents[2]
REFERENCES = ("FastAPI floor", "dependency floor", "naive stack")
RATIO = re.compile(r"^(\d+\.\d+)x")
# The functions measured, in the table's order (the catalog's).
MEASURED = ("billing_plans", "stripe_webhook")
FUNCTIONS = [(e.name, e.permissions) for e in ENDPOINTS if e.name in MEASURED]


Table = dict[str, dict[str, str]]


def parse(lines: list[str]) -> Table:
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert set(lines[1].replace("|", "").replace(" ", "")) <= {"-", ":"}
    rows: Table = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert len(cells) == len(header), line
        rows[cells[0]] = dict(zip(header, cells, strict=True))
    return rows


def run_bench(*options: str) -> tuple[list[Table], list[str]]:
    """The tables ``python -m tools.bench --smoke [options]`` prints, each by row
    name: the headline (import + first request beside the naive stack), the
    functions and references, then the billing functions' SDK comparison; and the
    goal lines."""
    done = subprocess.run(
        [sys.executable, "-m", "tools.bench", "--smoke", *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    tables: list[list[str]] = [[]]
    for line in done.stdout.splitlines():
        if line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    goals = [line for line in done.stdout.splitlines() if line.startswith("Goal ")]
    return [parse(lines) for lines in tables if lines], goals


# Session-scoped: xdist may run other modules' tests between these on the bench's
# worker, and a module-scoped run would be torn down and made again (~30 s).
@pytest.fixture(scope="session")
def printed() -> tuple[list[Table], list[str]]:
    return run_bench("--only", ",".join(MEASURED))


@pytest.fixture(scope="session")
def tables(printed: tuple[list[Table], list[str]]) -> list[Table]:
    return printed[0]


@pytest.fixture(scope="session")
def table(tables: list[Table]) -> Table:
    return tables[1]


def test_the_headline_is_import_and_first_request_beside_the_naive_stack(
    tables: list[Table],
) -> None:
    headline = tables[0]
    assert list(headline) == [*(name for name, _ in FUNCTIONS), "naive stack"]
    for name, _ in FUNCTIONS:
        row = headline[name]
        assert number(column(row, "import + first request ms CPU")) > 0
        assert number(column(row, "ms wall")) > 0
        assert RATIO.match(column(row, "CPU ÷ naive stack")), name
        assert RATIO.match(column(row, "wall ÷ naive stack")), name
    assert number(column(headline["naive stack"], "import + first request")) > 0


def test_both_goals_are_printed_with_a_verdict(
    printed: tuple[list[Table], list[str]],
) -> None:
    first, second = printed[1]
    assert re.match(r"^Goal 1 (PASS|FAIL): every function's import \+ first", first)
    # me is not among the functions measured here: the goal says it was not.
    assert second.startswith("Goal 2 not measured: --only leaves me out")


def column(row: dict[str, str], starts: str) -> str:
    (name,) = [name for name in row if name.startswith(starts)]
    return row[name]


def number(cell: str) -> float:
    """The leading figure of a cell: ``312 (298-340)``, ``1.04x ✓ (A)``, ``8 / 9``."""
    match = re.match(r"^(\d+(?:\.\d+)?)", cell)
    assert match, f"not a figure: {cell!r}"
    return float(match.group(1))


def test_only_the_functions_named_and_every_reference_get_a_row(
    table: dict[str, dict[str, str]],
) -> None:
    names = list(table)
    assert [name for name in names if not name.startswith(REFERENCES)] == [
        name for name, _ in FUNCTIONS
    ]
    for reference in REFERENCES:
        assert any(name.startswith(reference) for name in names), reference


def test_every_function_figure_parses_and_is_positive(
    table: dict[str, dict[str, str]],
) -> None:
    for name, permissions in FUNCTIONS:
        row = table[name]
        for starts in ("init ms CPU", "init ms wall", "first request ms"):
            assert number(column(row, starts)) > 0, (name, starts)
        p50, p99 = column(row, "warm p50 / p99").split(" / ")
        assert 0 < number(p50) <= number(p99), name
        for starts in (
            "init ÷ dep floor",
            "init ÷ FastAPI",
            "warm p50 ÷",
        ):
            assert RATIO.match(column(row, starts)), (name, starts)
            assert number(column(row, starts)) > 0, (name, starts)
        calls = number(column(row, "DynamoDB calls"))
        dynamo_ms = number(column(row, "DynamoDB ms"))
        if permissions:
            assert calls > 0, name
            assert dynamo_ms > 0, name
        else:
            assert calls == dynamo_ms == 0, name
        assert column(row, "targets") == "met" or column(row, "targets").startswith(
            "missed: "
        )


def test_every_reference_has_its_cold_figures(
    table: dict[str, dict[str, str]],
) -> None:
    references = [row for name, row in table.items() if name.startswith(REFERENCES)]
    for row in references:
        assert number(column(row, "init ms CPU")) > 0
        assert number(column(row, "init ms wall")) > 0
        assert column(row, "targets") == "reference"
    floor = table["FastAPI floor"]
    assert number(column(floor, "warm p50 / p99")) > 0
    assert number(column(table["naive stack"], "DynamoDB ms")) > 0


def test_the_billing_function_is_compared_with_the_previous_stripe_client(
    tables: list[Table],
) -> None:
    # stripe_webhook declares Stripe; billing_plans does not and has no row.
    _, _, sdk = tables
    (row,) = sdk.values()
    assert row["billing function"] == "stripe_webhook"
    assert number(column(row, "init + first ms CPU, SDK")) > 0
    assert number(column(row, "init + first ms CPU, previous")) > 0
    assert RATIO.match(column(row, "ratio"))


def test_only_refuses_a_name_that_is_no_function() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.bench", "--smoke", "--only", "nothing"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert "no such function: nothing" in done.stderr
