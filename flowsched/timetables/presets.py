"""Schedules that are not periodic: None (never), "@once" and "@continuous"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flowsched.timetables.base import DagRunInfo, DataInterval, RunBounds, Timetable, as_pendulum
from flowsched.timetables.describe import CONTINUOUS_WORDS, NEVER_WORDS, ONCE_WORDS


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

    def _next_run(self, bounds: RunBounds) -> DagRunInfo | None:
        return None


class OnceTimetable(_TriggeredTimetable):
    """The "@once" schedule: one run, at start_date, whatever catchup says."""

    kind = "once"
    summary = "@once"
    description = ONCE_WORDS

    def _next_run(self, bounds: RunBounds) -> DagRunInfo | None:
        if bounds.last_end is not None:
            return None
        if bounds.end_date is not None and bounds.start_date > bounds.end_date:
            return None
        interval = DataInterval.exact(bounds.start_date)
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

    def _next_run(self, bounds: RunBounds) -> DagRunInfo | None:
        start = bounds.start_date if bounds.last_end is None else bounds.last_end
        end = max(start, bounds.now)
        if bounds.end_date is not None and end > bounds.end_date:
            return None
        interval = DataInterval(as_pendulum(start), as_pendulum(end))
        return DagRunInfo(interval.end, interval)
