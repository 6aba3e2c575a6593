"""The emulator's clock: real time plus an offset that only moves forward.

``advance`` moves the offset (and writes it to the offset file, when there is one,
so that the local API's ``OffsetClock`` moves too); while the emulator works
through what an advance made due (renewals, trial ends), ``frozen`` pins "now" to
the moment each happened, as Stripe's test clocks do.
"""

from __future__ import annotations

import calendar
import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

DAY = 86_400


class Clock:
    """``source`` is the real time (``time.time`` unless an in-process emulator is
    driven by a test's clock)."""

    def __init__(
        self,
        offset_file: str | Path | None = None,
        source: Callable[[], float] = time.time,
    ) -> None:
        self._source = source
        self._offset = 0
        self._frozen: int | None = None
        self._offset_file = Path(offset_file) if offset_file else None
        self._write_offset()

    @property
    def offset(self) -> int:
        return self._offset

    def now(self) -> int:
        if self._frozen is not None:
            return self._frozen
        return self.current()

    def current(self) -> int:
        """Real time plus the offset, even while ``frozen`` (other threads)."""
        return int(self._source()) + self._offset

    def advance(self, seconds: int) -> int:
        """Move the clock forward; return the new total offset."""
        self._offset += seconds
        self._write_offset()
        return self._offset

    def reset(self) -> None:
        self._offset = 0
        self._frozen = None
        self._write_offset()

    @contextlib.contextmanager
    def frozen(self, at: int) -> Iterator[None]:
        previous, self._frozen = self._frozen, at
        try:
            yield
        finally:
            self._frozen = previous

    def _write_offset(self) -> None:
        if self._offset_file is None:
            return
        self._offset_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self._offset_file.with_name(self._offset_file.name + ".tmp")
        temporary.write_text(json.dumps(self._offset), encoding="utf-8")
        os.replace(temporary, self._offset_file)


def shift(timestamp: int, interval: str, count: int) -> int:
    """``timestamp`` plus ``count`` intervals; months and years are calendar ones
    with the day clamped to the month's length (Jan 31 + 1 month = Feb 28/29), as
    Stripe bills from a billing cycle anchor."""
    if interval == "day":
        return timestamp + count * DAY
    if interval == "week":
        return timestamp + count * 7 * DAY
    months = count * (12 if interval == "year" else 1)
    moment = datetime.fromtimestamp(timestamp, UTC)
    years, month_index = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + years, month_index + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def iso(timestamp: int | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
