"""The local stack's EventBridge rules: what calls the scheduler function in AWS.

Each schedule of ``functions.resources.SCHEDULES`` (``rate(1 day)``, ...) calls the
scheduler handler with its event once per period, the first time one period after
the start, as a new rate rule does. Periods are counted on the stack's clock, which
``strata stripe advance`` moves: advancing two days runs each daily job (once,
as a rule that missed its runs would not catch up on them either).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from functions.resources import ScheduleSpec
from local.background import Background

logger = logging.getLogger("strata.scheduler")

Handler = Callable[[dict[str, Any], Any], Any]
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86_400}


def period(schedule: ScheduleSpec) -> timedelta:
    """The time between two runs of ``schedule``'s rate expression."""
    unit = schedule.rate_unit.removesuffix("s")
    return timedelta(seconds=schedule.rate_value * _UNIT_SECONDS[unit])


class Scheduler(Background):
    """Calls ``handler`` for each schedule as it falls due on ``now``'s clock,
    checking every ``check_seconds`` in a daemon thread until ``stop``."""

    def __init__(
        self,
        schedules: Sequence[ScheduleSpec],
        load_handler: Callable[[], Handler],
        make_context: Callable[[], Any],
        now: Callable[[], datetime],
        *,
        check_seconds: float = 1.0,
    ) -> None:
        self._load_handler = load_handler
        self._make_context = make_context
        self._now = now
        self._check_seconds = check_seconds
        started = now()
        self._due = [(s, started + period(s)) for s in schedules]
        super().__init__("strata-scheduler")

    def _run(self) -> None:
        while not self._stop.wait(self._check_seconds):
            self.tick()

    def tick(self) -> list[str]:
        """Run every schedule now due; returns their jobs."""
        now = self._now()
        ran = []
        for index, (schedule, due) in enumerate(self._due):
            if now < due:
                continue
            self._due[index] = (schedule, now + period(schedule))
            ran.append(schedule.job)
            try:
                self._load_handler()(schedule.event, self._make_context())
            except Exception:
                # The worker's own line says what the job did; this is the
                # submission failing (the queue or the tables away).
                logger.exception("scheduled job %s not submitted", schedule.job)
        return ran
