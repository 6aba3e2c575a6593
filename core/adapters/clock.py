"""``Clock`` from the system time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class OffsetClock:
    """The system time plus the seconds written in a file: the local stack's clock,
    moved forward together with the Stripe emulator's (`strata stripe advance`) so
    renewals, grace periods and expiries can be walked through by hand.

    The file is read on every call (it is tiny and local); a missing or unreadable
    file means no offset. Never used outside the local stage (settings refuse it).
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)

    def offset(self) -> timedelta:
        try:
            seconds = float(json.loads(self._path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return timedelta(0)
        return timedelta(seconds=seconds)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()
