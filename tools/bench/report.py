"""The benchmark's figures and targets, rendered as one markdown table."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

# Benchmark targets: printed beside the figures, never asserted by a test.
DEP_FLOOR_TARGET = 1.1
# The goals (issue 14): each function's import + first request, CPU, at most this
# share of the naive stack's in the same round; warm ``me`` on its real adapters,
# DynamoDB's time excluded, at most this multiple of the FastAPI floor's p50.
HEADLINE_TARGET = 0.85
WARM_REAL_TARGET = 1.5
FASTAPI_FLOOR_TARGET = 1.1
WARM_TARGET = 1.5
# A billing function's cold start on the stripe SDK over the same function on the
# hand-written client it replaced.
SDK_TARGET = 1.1

FASTAPI_FLOOR_ROW = "FastAPI floor"
NAIVE_ROW = "naive stack"
DEP_FLOOR_ROW = "dependency floor"

MET, MISSED = "✓", "✗"


@dataclass
class Cold:
    """One subject's fresh processes: a list entry per process."""

    init_ms: list[float] = field(default_factory=list)  # CPU
    init_wall_ms: list[float] = field(default_factory=list)
    # CPU, ours: less DynamoDB's and bcrypt's
    first_ms: list[float] = field(default_factory=list)
    dynamo_ms: list[float] = field(default_factory=list)  # wall
    # The headline: import + first request, CPU and wall, less bcrypt's (apart).
    total_ms: list[float] = field(default_factory=list)
    total_wall_ms: list[float] = field(default_factory=list)
    bcrypt_ms: list[float] = field(default_factory=list)  # CPU

    def add(self, result: dict[str, object]) -> None:
        init, init_wall = (
            _number(result["init_cpu_ms"]),
            _number(result["init_wall_ms"]),
        )
        self.init_ms.append(init)
        self.init_wall_ms.append(init_wall)
        if "first_cpu_ms" in result:
            first = _number(result["first_cpu_ms"])
            bcrypt = _number(result.get("bcrypt_cpu_ms", 0))
            bcrypt_wall = _number(result.get("bcrypt_wall_ms", 0))
            self.first_ms.append(first - _number(result["dynamo_cpu_ms"]) - bcrypt)
            self.dynamo_ms.append(_number(result["dynamo_wall_ms"]))
            self.total_ms.append(init + first - bcrypt)
            wall = init_wall + _number(result["first_wall_ms"]) - bcrypt_wall
            self.total_wall_ms.append(wall)
            self.bcrypt_ms.append(bcrypt)

    def init_ratio(self, other: Cold) -> float:
        """The median over rounds of this init over ``other``'s in the same round."""
        return paired_ratio(self.init_ms, other.init_ms)


def paired_ratio(mine: Sequence[float], theirs: Sequence[float]) -> float:
    """The median of ``mine[i] / theirs[i]``: each pair was measured in the same
    round, close in time, so a slow spell of the machine weighs on both."""
    if len(mine) != len(theirs) or not mine:
        raise ValueError("paired samples must be as many, and some")
    return statistics.median(a / b for a, b in zip(mine, theirs, strict=True))


def _number(value: object) -> float:
    if not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    return float(value)


@dataclass(frozen=True)
class Warm:
    """One subject's warm invocations, in nanoseconds, a list per round."""

    rounds: list[list[int]]

    @property
    def _all(self) -> list[int]:
        return sorted(value for block in self.rounds for value in block)

    @property
    def p50_us(self) -> float:
        return statistics.median(self._all) / 1000

    @property
    def p99_us(self) -> float:
        values = self._all
        if len(values) == 1:
            return values[0] / 1000
        return statistics.quantiles(values, n=100, method="inclusive")[98] / 1000

    def p50_ratio(self, other: Warm) -> float:
        """The median over rounds of this round's p50 over ``other``'s."""
        return paired_ratio(
            [statistics.median(block) for block in self.rounds],
            [statistics.median(block) for block in other.rounds],
        )


@dataclass
class FunctionRow:
    name: str
    cold: Cold
    dep_floor: str  # the label of its dependency floor
    aws_free: bool
    warm: Warm
    dynamo_calls: int


@dataclass
class ReferenceRow:
    name: str
    cold: Cold
    warm: Warm | None = None


@dataclass
class Verdicts:
    missed: list[str] = field(default_factory=list)

    def check(self, ratio: float, target: float, what: str) -> str:
        ok = ratio <= target
        if not ok:
            self.missed.append(what)
        return f"{ratio:.2f}x {MET if ok else MISSED}"


def _spread(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f})"


def _median(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.0f}" if values else "-"


def _warm(warm: Warm | None) -> str:
    return "-" if warm is None else f"{warm.p50_us:.0f} / {warm.p99_us:.0f}"


HEADER = (
    "subject",
    "init ms CPU: median (min-max)",
    "init ms wall",
    "first request ms CPU, ours",
    "DynamoDB ms wall",
    f"init ÷ dep floor (≤{DEP_FLOOR_TARGET})",
    f"init ÷ FastAPI floor (≤{FASTAPI_FLOOR_TARGET} if no AWS)",
    "warm p50 / p99 µs CPU",
    f"warm p50 ÷ floor (≤{WARM_TARGET})",
    "DynamoDB calls",
    "targets",
)


def rows(
    functions: Sequence[FunctionRow],
    fastapi_floor: ReferenceRow,
    dep_floors: dict[str, ReferenceRow],
    naive: ReferenceRow,
) -> list[list[str]]:
    """The table's cells, header first: functions, then the references."""
    floor_warm = fastapi_floor.warm
    if floor_warm is None:
        raise ValueError("the FastAPI floor needs its warm figures")
    table = [list(HEADER)]
    for row in functions:
        verdicts = Verdicts()
        cold = row.cold
        by_dep = verdicts.check(
            cold.init_ratio(dep_floors[row.dep_floor].cold),
            DEP_FLOOR_TARGET,
            "dep floor",
        )
        by_floor = cold.init_ratio(fastapi_floor.cold)
        floor_cell = (
            verdicts.check(by_floor, FASTAPI_FLOOR_TARGET, "FastAPI floor")
            if row.aws_free
            else f"{by_floor:.2f}x"
        )
        by_warm = verdicts.check(row.warm.p50_ratio(floor_warm), WARM_TARGET, "warm")
        table.append(
            [
                row.name,
                _spread(row.cold.init_ms),
                _median(row.cold.init_wall_ms),
                _median(row.cold.first_ms),
                _median(row.cold.dynamo_ms),
                f"{by_dep} ({row.dep_floor.rsplit(' ', 1)[-1]})",
                floor_cell,
                _warm(row.warm),
                by_warm,
                str(row.dynamo_calls),
                "met"
                if not verdicts.missed
                else "missed: " + ", ".join(verdicts.missed),
            ]
        )
    for reference in (fastapi_floor, *dep_floors.values(), naive):
        table.append(
            [
                reference.name,
                _spread(reference.cold.init_ms),
                _median(reference.cold.init_wall_ms),
                _median(reference.cold.first_ms),
                _median(reference.cold.dynamo_ms),
                "-",
                "-",
                _warm(reference.warm),
                "1.00x" if reference is fastapi_floor else "-",
                "-",
                "reference",
            ]
        )
    return table


def markdown(table: list[list[str]]) -> str:
    """A markdown table with padded columns, so that it reads in a terminal too."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    numeric = [i not in (0, len(widths) - 1) for i in range(len(widths))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(cells, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = [
        "-" * (width - 1) + ":" if right else "-" * width
        for width, right in zip(widths, numeric, strict=True)
    ]
    return "\n".join([line(table[0]), line(rule), *(line(row) for row in table[1:])])


@dataclass
class SdkRow:
    """One billing function's cold starts (import and first request, CPU), on
    the SDK and on the previous client, a pair per round."""

    name: str
    sdk: Cold
    previous: Cold

    @staticmethod
    def totals(cold: Cold) -> list[float]:
        return [a + b for a, b in zip(cold.init_ms, cold.first_ms, strict=True)]


SDK_HEADER = (
    "billing function",
    "init + first ms CPU, SDK",
    "init + first ms CPU, previous client",
    "init ms CPU, SDK / previous",
    f"ratio (≤{SDK_TARGET})",
)


def sdk_rows(functions: Sequence[SdkRow]) -> list[list[str]]:
    """The comparison's cells, header first."""
    table = [list(SDK_HEADER)]
    for row in functions:
        sdk, previous = SdkRow.totals(row.sdk), SdkRow.totals(row.previous)
        ratio = paired_ratio(sdk, previous)
        table.append(
            [
                row.name,
                _spread(sdk),
                _spread(previous),
                f"{_median(row.sdk.init_ms)} / {_median(row.previous.init_ms)}",
                f"{ratio:.2f}x {MET if ratio <= SDK_TARGET else MISSED}",
            ]
        )
    return table


# -- the headline: import + first request, beside the naive stack --------------------

PASS, FAIL = "PASS", "FAIL"

HEADLINE_HEADER = (
    "function",
    "import + first request ms CPU: median (min-max)",
    "ms wall",
    "bcrypt ms CPU (apart)",
    f"CPU ÷ naive stack (≤{HEADLINE_TARGET})",
    "wall ÷ naive stack",
)


@dataclass
class Headline:
    """The headline table's cells and the first goal's verdict."""

    table: list[list[str]]
    ratios: dict[str, float]

    @property
    def failed(self) -> dict[str, float]:
        return {n: r for n, r in self.ratios.items() if r > HEADLINE_TARGET}


def headline(functions: Sequence[FunctionRow], naive: ReferenceRow) -> Headline:
    """Per function, import + first request (less bcrypt, shown apart), CPU and
    wall, and its ratio to the naive stack's in the same round."""
    table = [list(HEADLINE_HEADER)]
    ratios: dict[str, float] = {}
    for row in functions:
        cold = row.cold
        ratio = paired_ratio(cold.total_ms, naive.cold.total_ms)
        ratios[row.name] = ratio
        bcrypt = statistics.median(cold.bcrypt_ms)
        table.append(
            [
                row.name,
                _spread(cold.total_ms),
                _median(cold.total_wall_ms),
                f"{bcrypt:.0f}" if bcrypt >= 0.5 else "-",
                f"{ratio:.2f}x {MET if ratio <= HEADLINE_TARGET else MISSED}",
                f"{paired_ratio(cold.total_wall_ms, naive.cold.total_wall_ms):.2f}x",
            ]
        )
    table.append(
        [
            naive.name,
            _spread(naive.cold.total_ms),
            _median(naive.cold.total_wall_ms),
            "-",
            "1.00x",
            "1.00x",
        ]
    )
    return Headline(table, ratios)


def headline_goal(result: Headline) -> str:
    failed = result.failed
    worst = max(result.ratios.items(), key=lambda item: item[1])
    verdict = FAIL if failed else PASS
    detail = (
        f"{len(failed)} of {len(result.ratios)} above: "
        + ", ".join(f"{n} {r:.2f}x" for n, r in sorted(failed.items()))
        if failed
        else f"all {len(result.ratios)} at or under; highest {worst[0]} {worst[1]:.2f}x"
    )
    return (
        f"Goal 1 {verdict}: every function's import + first request ≤"
        f"{HEADLINE_TARGET}x the naive stack's (CPU, median of per-round ratios): "
        f"{detail}."
    )


def warm_real_goal(function: str, ratio: float | None, why_not: str = "") -> str:
    if ratio is None:
        return f"Goal 2 not measured: {why_not}."
    verdict = PASS if ratio <= WARM_REAL_TARGET else FAIL
    return (
        f"Goal 2 {verdict}: warm {function} on its real adapters (DynamoDB on moto), "
        f"CPU less DynamoDB's, p50 {ratio:.2f}x the FastAPI floor's "
        f"(≤{WARM_REAL_TARGET}x)."
    )
