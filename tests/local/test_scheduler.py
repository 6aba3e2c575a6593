"""The local stack's rate rules: each schedule's event, once per period of the
stack's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from functions.resources import ScheduleSpec
from local.scheduler import Scheduler

DAILY = ScheduleSpec("purge_unverified", 1, "day", "daily")
HOURLY = ScheduleSpec("reconcile_subscriptions", 2, "hours", "every two hours")
START = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _scheduler(clock: Clock, calls: list[dict[str, Any]]) -> Scheduler:
    return Scheduler(
        [DAILY, HOURLY],
        load_handler=lambda: lambda event, context: calls.append(event),
        make_context=object,
        now=clock,
    )


def test_nothing_runs_before_a_first_period_has_passed() -> None:
    clock, calls = Clock(), list[dict[str, Any]]()
    scheduler = _scheduler(clock, calls)
    clock.now = START + timedelta(hours=1, minutes=59)

    assert scheduler.tick() == []
    assert calls == []


def test_each_schedule_runs_with_its_event_once_its_period_has_passed() -> None:
    clock, calls = Clock(), list[dict[str, Any]]()
    scheduler = _scheduler(clock, calls)
    clock.now = START + timedelta(hours=2)

    assert scheduler.tick() == ["reconcile_subscriptions"]
    assert calls == [{"job": "reconcile_subscriptions"}]


def test_a_clock_moved_days_ahead_runs_each_job_once_then_a_period_later() -> None:
    clock, calls = Clock(), list[dict[str, Any]]()
    scheduler = _scheduler(clock, calls)
    clock.now = START + timedelta(days=5)

    assert scheduler.tick() == ["purge_unverified", "reconcile_subscriptions"]
    assert scheduler.tick() == []
    clock.now += timedelta(hours=2)
    assert scheduler.tick() == ["reconcile_subscriptions"]


def test_a_failing_submission_does_not_stop_the_other_schedules() -> None:
    clock, calls = Clock(), list[dict[str, Any]]()

    def handler(event: dict[str, Any], context: Any) -> None:
        if event["job"] == "purge_unverified":
            raise RuntimeError("the queue is away")
        calls.append(event)

    scheduler = Scheduler(
        [DAILY, HOURLY], load_handler=lambda: handler, make_context=object, now=clock
    )
    clock.now = START + timedelta(days=1)

    scheduler.tick()

    assert calls == [{"job": "reconcile_subscriptions"}]
