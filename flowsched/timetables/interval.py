"""timedelta schedules: back-to-back intervals of fixed absolute length.

Unlike cron, a timedelta ignores the wall clock: `timedelta(days=1)` is always 24 h, so a
job started at 00:00 local runs at 01:00 local after spring-forward (docs/concepts.md). The grid
of interval starts is anchored at start_date: start_date + k * delta.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from flowsched.timetables.base import DagRunInfo, DataInterval, PeriodicTimetable, as_pendulum
from flowsched.timetables.cron import CronTimetable
from flowsched.timetables.describe import describe_delta
from flowsched.timetables.wallclock import to_utc


class DeltaTimetable(PeriodicTimetable):
    """Runs every `delta`, counted in absolute time from start_date."""

    kind = "delta"

    def __init__(self, delta: timedelta, timezone: str | tzinfo = "UTC") -> None:
        if delta <= timedelta(0):
            raise ValueError(f"A timedelta schedule must be positive, got {delta!r}")
        super().__init__(timezone)
        self.delta = delta

    @property
    def summary(self) -> str:
        return str(self.delta)

    @property
    def description(self) -> str:
        return describe_delta(self.delta)

    def serialize(self) -> dict[str, Any]:
        return {"kind": self.kind, "seconds": self.delta.total_seconds()}

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        """The delta that ends at run_after (start_date, the grid's anchor, is not known
        here, so a manual run covers the period just before it)."""
        end = to_utc(run_after)
        return DataInterval(as_pendulum(end - self.delta), as_pendulum(end))

    def _first_start(self, start_date: datetime) -> datetime:
        return start_date

    def _latest_complete_start(self, now: datetime, start_date: datetime) -> datetime:
        """Before start_date this lies before it too, and the caller's max() ignores it."""
        completed = (now - start_date) // self.delta
        return start_date + (completed - 1) * self.delta

    def _run_starting(self, start: datetime) -> DagRunInfo:
        end = start + self.delta
        interval = DataInterval(as_pendulum(start), as_pendulum(end))
        return DagRunInfo(interval.end, interval)


# Airflow's names (``airflow.timetables.interval``) for the two interval schedules.
CronDataIntervalTimetable = CronTimetable
DeltaDataIntervalTimetable = DeltaTimetable
