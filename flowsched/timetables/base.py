"""What every schedule answers: the next run to create, and the interval of a manual run.

All instants a timetable returns are pendulum DateTimes in UTC (every time is stored
in UTC); convert with `.in_timezone(tt.timezone)` to show them in the DAG's zone. Inputs may
be any timezone-aware datetime; naive ones are refused, because their instant is unknown.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime, tzinfo
from typing import Any, ClassVar, NamedTuple

import pendulum

from flowsched.timetables.wallclock import resolve_zone, to_utc, zone_name


def as_pendulum(instant: datetime) -> pendulum.DateTime:
    """The public form of an instant: a pendulum DateTime in UTC."""
    return pendulum.instance(to_utc(instant), tz="UTC")


class DataInterval(NamedTuple):
    """The data a run covers: [start, end)."""

    start: datetime
    end: datetime

    @classmethod
    def exact(cls, at: datetime) -> DataInterval:
        """The empty interval of a run that covers a moment, not a period (@once, manual)."""
        instant = as_pendulum(at)
        return cls(instant, instant)


class DagRunInfo(NamedTuple):
    """A run to create: when (run_after) and for which data.

    moved_by_dst is True when run_after is a wall-clock time that did not exist (a
    spring-forward gap) and the run was moved to the first instant after the gap.
    """

    run_after: datetime
    data_interval: DataInterval
    moved_by_dst: bool = False

    @property
    def logical_date(self) -> datetime:
        return self.data_interval.start


class RunBounds(NamedTuple):
    """What limits a timetable's next scheduled run, every instant in UTC."""

    start_date: datetime
    end_date: datetime | None
    last_end: datetime | None
    """The end of the last automated run's interval; None before the first run."""
    catchup: bool
    now: datetime


class Timetable(ABC):
    """A DAG's schedule, in the DAG's time zone."""

    kind: ClassVar[str]
    periodic: ClassVar[bool] = True
    can_be_scheduled: ClassVar[bool] = True

    def __init__(self, timezone: str | tzinfo = "UTC") -> None:
        self.zone = resolve_zone(timezone)

    @property
    def timezone(self) -> str:
        return zone_name(self.zone)

    @property
    @abstractmethod
    def summary(self) -> str:
        """Short form shown in lists, e.g. "30 2 * * *", "@daily", "1:00:00"."""

    @property
    @abstractmethod
    def description(self) -> str:
        """The schedule in words, e.g. "At 02:30 AM"."""

    @abstractmethod
    def serialize(self) -> dict[str, Any]:
        """The "schedule" dict of the serialized DAG."""

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        start_date: datetime | None,
        end_date: datetime | None,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        """The next scheduled run after the last one, or None when there is none (never
        without a start_date)."""
        if start_date is None:
            return None
        last_end = (
            None if last_automated_data_interval is None else last_automated_data_interval.end
        )
        bounds = RunBounds(
            start_date=to_utc(start_date),
            end_date=None if end_date is None else to_utc(end_date),
            last_end=None if last_end is None else to_utc(last_end),
            catchup=catchup,
            now=to_utc(now),
        )
        return self._next_run(bounds)

    @abstractmethod
    def _next_run(self, bounds: RunBounds) -> DagRunInfo | None:
        """The next scheduled run within bounds, or None when there is none."""

    @abstractmethod
    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        """The interval a run triggered by hand at run_after covers."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.summary!r}, timezone={self.timezone!r})"

    def __eq__(self, other: object) -> bool:
        """Equal when they schedule alike, which tells the scheduler a schedule changed."""
        if not isinstance(other, Timetable):
            return NotImplemented
        return (self.serialize(), self.timezone) == (other.serialize(), other.timezone)

    def __hash__(self) -> int:
        return hash((self.kind, self.summary, self.timezone))


class PeriodicTimetable(Timetable):
    """Schedules whose runs tile time in back-to-back intervals (cron, timedelta).

    Choosing the next interval's start is the same for all of them: the first aligned
    start at or after start_date; never before the end of the last automated interval
    (intervals stay contiguous, so no data is lost or doubled); without catchup, not
    before the latest interval already complete at `now`. end_date stops creation: no
    interval starts after it.
    """

    def _next_run(self, bounds: RunBounds) -> DagRunInfo | None:
        start = self._first_start(bounds.start_date)
        if bounds.last_end is not None:
            start = max(start, bounds.last_end)
        if not bounds.catchup:
            start = max(start, self._latest_complete_start(bounds.now, bounds.start_date))
        if bounds.end_date is not None and start > bounds.end_date:
            return None
        return self._run_starting(start)

    @abstractmethod
    def _first_start(self, start_date: datetime) -> datetime:
        """The first interval start at or after start_date."""

    @abstractmethod
    def _latest_complete_start(self, now: datetime, start_date: datetime) -> datetime:
        """The start of the last interval that has ended at `now`."""

    @abstractmethod
    def _run_starting(self, start: datetime) -> DagRunInfo:
        """The run whose interval starts at `start`."""
