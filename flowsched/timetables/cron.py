"""Cron schedules: each data interval runs from one fire of the cron to the next.

The fire instants come from CronTimes (DST rules there). An interval is [fire, next fire),
so interval lengths follow the wall clock (a daily interval across spring-forward is 23 h)
and intervals are contiguous by construction.

A fire moved by a spring-forward gap is a real interval boundary at the instant it ran:
with `30 2 * * *` in Europe/Amsterdam, the interval [03-29 02:30 CET, 03-30 03:00 CEST)
runs at 03:00 CEST and is marked moved_by_dst; the next interval is
[03-30 03:00 CEST, 03-31 02:30 CEST), so its logical_date is 03:00, the time the boundary
really was, not a 02:30 that never existed. Both intervals are 23.5 h; no data is lost or
doubled.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from flowsched.timetables.base import (
    DagRunInfo,
    DataInterval,
    PeriodicTimetable,
    as_pendulum,
)
from flowsched.timetables.cron_times import CronTimes
from flowsched.timetables.describe import describe_cron
from flowsched.timetables.wallclock import to_utc


class CronExpression:
    """A cron expression and its fires in the timetable's zone, shown as the expression
    and in words: shared by the cron schedules (CronTimetable, CronTriggerTimetable)."""

    expr: str
    times: CronTimes

    def _set_cron(self, expr: str, zone: tzinfo) -> None:
        self.expr = expr.strip()
        self.times = CronTimes(self.expr, zone)

    @property
    def summary(self) -> str:
        return self.expr

    @property
    def description(self) -> str:
        return describe_cron(self.expr)


class CronTimetable(CronExpression, PeriodicTimetable):
    """A cron expression or preset (@hourly, @daily, ...) read in the DAG's zone."""

    kind = "cron"

    def __init__(self, expr: str, timezone: str | tzinfo = "UTC") -> None:
        super().__init__(timezone)
        self._set_cron(expr, self.zone)

    def serialize(self) -> dict[str, Any]:
        return {"kind": self.kind, "expr": self.expr}

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        """The latest interval complete at run_after, as Airflow does."""
        end = self.times.at_or_before(to_utc(run_after)).at
        start = self.times.prev_before(end).at
        return DataInterval(as_pendulum(start), as_pendulum(end))

    def _first_start(self, start_date: datetime) -> datetime:
        return self.times.at_or_after(start_date).at

    def _latest_complete_start(self, now: datetime, start_date: datetime) -> datetime:
        last_end = self.times.at_or_before(now).at
        return self.times.prev_before(last_end).at

    def _run_starting(self, start: datetime) -> DagRunInfo:
        end = self.times.next_after(start)
        interval = DataInterval(as_pendulum(start), as_pendulum(end.at))
        return DagRunInfo(interval.end, interval, moved_by_dst=end.moved_by_dst)
