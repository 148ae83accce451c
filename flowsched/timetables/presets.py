"""Schedules that are not periodic: None (never), "@once" and "@continuous"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flowsched.timetables.base import DagRunInfo, DataInterval, Timetable, as_pendulum
from flowsched.timetables.describe import CONTINUOUS_WORDS, NEVER_WORDS, ONCE_WORDS
from flowsched.timetables.wallclock import to_utc


class _TriggeredTimetable(Timetable):
    """Shared by the non-periodic schedules: a manual run covers just its own moment,
    since there is no period to infer."""

    periodic = False

    def serialize(self) -> dict[str, Any]:
        return {"kind": self.kind}

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        return DataInterval.exact(run_after)


class NullTimetable(_TriggeredTimetable):
    """schedule=None: runs only when triggered."""

    kind = "none"
    can_be_scheduled = False
    summary = "None"
    description = NEVER_WORDS

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        start_date: datetime | None,
        end_date: datetime | None,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        return None


class OnceTimetable(_TriggeredTimetable):
    """The "@once" schedule: one run, at start_date, whatever catchup says."""

    kind = "once"
    summary = "@once"
    description = ONCE_WORDS

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        start_date: datetime | None,
        end_date: datetime | None,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        if last_automated_data_interval is not None or start_date is None:
            return None
        if end_date is not None and to_utc(start_date) > to_utc(end_date):
            return None
        interval = DataInterval.exact(start_date)
        return DagRunInfo(interval.start, interval)


class ContinuousTimetable(_TriggeredTimetable):
    """The "@continuous" schedule: the next run as soon as the last one is created,
    covering the time since the last one ended. The scheduler must allow one active run
    at a time (as Airflow requires max_active_runs=1), or runs would pile up.

    end_date: no run whose interval would end after it (Airflow's rule; the interval of a
    continuous run ends at `now`).
    """

    kind = "continuous"
    summary = "@continuous"
    description = CONTINUOUS_WORDS

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        start_date: datetime | None,
        end_date: datetime | None,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        if start_date is None:
            return None
        if last_automated_data_interval is None:
            start = to_utc(start_date)
        else:
            start = to_utc(last_automated_data_interval.end)
        end = max(start, to_utc(now))
        if end_date is not None and end > to_utc(end_date):
            return None
        interval = DataInterval(as_pendulum(start), as_pendulum(end))
        return DagRunInfo(interval.end, interval)
