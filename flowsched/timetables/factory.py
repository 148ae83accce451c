"""Build a timetable from what a DAG file says (schedule=...) or from its serialized form."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from flowsched.timetables.base import Timetable
from flowsched.timetables.cron import CronTimetable
from flowsched.timetables.events import EventsTimetable
from flowsched.timetables.interval import DeltaTimetable
from flowsched.timetables.presets import ContinuousTimetable, NullTimetable, OnceTimetable
from flowsched.timetables.trigger import CronTriggerTimetable

Schedule = str | timedelta | None

_NON_PERIODIC: dict[str, type[Timetable]] = {
    "none": NullTimetable,
    "once": OnceTimetable,
    "continuous": ContinuousTimetable,
}


def timetable_from_schedule(schedule: Schedule, timezone: str | tzinfo = "UTC") -> Timetable:
    """None, "@once", "@continuous", a cron expression or preset, or a timedelta."""
    if schedule is None:
        return NullTimetable(timezone)
    if isinstance(schedule, timedelta):
        return DeltaTimetable(schedule, timezone)
    if isinstance(schedule, str):
        preset = schedule.strip()
        if preset in ("@once", "@continuous"):
            return _NON_PERIODIC[preset[1:]](timezone)
        return CronTimetable(preset, timezone)
    raise TypeError(
        f"schedule must be None, a cron string, a preset or a timedelta, "
        f"not {type(schedule).__name__}"
    )


def timetable_from_serialized(schedule: dict[str, Any], timezone: str | tzinfo) -> Timetable:
    """The inverse of Timetable.serialize(). A timetable object given to a DAG keeps its own
    zone (``"timezone"`` in the dict); otherwise the schedule is read in the DAG's."""
    kind = schedule.get("kind")
    timezone = schedule.get("timezone") or timezone
    if kind == "cron_trigger":
        interval = timedelta(seconds=schedule["interval"])
        return CronTriggerTimetable(schedule["expr"], timezone=timezone, interval=interval)
    if kind == "events":
        dates = [datetime.fromisoformat(date) for date in schedule["events"]]
        return EventsTimetable(
            dates,
            schedule["restrict_to_events"],
            presorted=True,
            description=schedule["description"],
        )
    if kind == "cron":
        return CronTimetable(schedule["expr"], timezone)
    if kind == "delta":
        return DeltaTimetable(timedelta(seconds=schedule["seconds"]), timezone)
    if kind in _NON_PERIODIC:
        return _NON_PERIODIC[kind](timezone)
    raise ValueError(f"Unknown schedule kind {kind!r} in {schedule!r}")
