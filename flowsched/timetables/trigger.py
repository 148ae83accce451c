"""Airflow's CronTriggerTimetable: a run at each fire of the cron, like crontab.

Unlike a cron schedule (CronTimetable, Airflow's CronDataIntervalTimetable), the run
starts at the fire itself, not one period later, and its logical date is the fire
(minus ``interval``). Its data interval is ``[fire - interval, fire]``, empty by default.
Fire instants, and so the DST rules, are CronTimes', as for every cron schedule.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from flowsched.timetables.base import (
    DagRunInfo,
    DataInterval,
    RunBounds,
    Timetable,
    as_pendulum,
)
from flowsched.timetables.cron import CronExpression


class CronTriggerTimetable(CronExpression, Timetable):
    """``CronTriggerTimetable("0 7 * * 1-5", timezone="Europe/Paris")``."""

    kind = "cron_trigger"

    def __init__(
        self, cron: str, *, timezone: str | tzinfo = "UTC", interval: timedelta = timedelta()
    ) -> None:
        super().__init__(timezone)
        if not isinstance(interval, timedelta) or interval < timedelta(0):
            raise ValueError(f"interval must be a timedelta >= 0, got {interval!r}")
        self._set_cron(cron, self.zone)
        self.interval = interval

    def serialize(self) -> dict[str, Any]:
        return {"kind": self.kind, "expr": self.expr, "interval": self.interval.total_seconds()}

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        end = as_pendulum(run_after)
        return DataInterval(end - self.interval, end)

    def _next_run(self, bounds: RunBounds) -> DagRunInfo | None:
        """Airflow's rule: the fire after the last run (or the first at or after
        start_date); without catchup, not before the latest fire at or before now either."""
        if bounds.last_end is not None:
            fire = self.times.next_after(bounds.last_end)
        else:
            fire = self.times.at_or_after(bounds.start_date)
        if not bounds.catchup:
            fire = max(fire, self.times.at_or_before(bounds.now), key=lambda f: f.at)
        if bounds.end_date is not None and fire.at > bounds.end_date:
            return None
        end = as_pendulum(fire.at)
        return DagRunInfo(end, DataInterval(end - self.interval, end), fire.moved_by_dst)
