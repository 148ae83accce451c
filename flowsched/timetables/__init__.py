"""Schedules, data intervals and DST (docs/concepts.md, "Time zones and daylight saving time").

All instants returned are pendulum DateTimes in UTC; cron fields are read in the DAG's
zone. See cron_times.py for the exact DST rules.
"""

from flowsched.timetables.base import DagRunInfo, DataInterval, Timetable
from flowsched.timetables.cron import CronTimetable
from flowsched.timetables.describe import describe_schedule
from flowsched.timetables.events import EventsTimetable
from flowsched.timetables.factory import timetable_from_schedule, timetable_from_serialized
from flowsched.timetables.interval import (
    CronDataIntervalTimetable,
    DeltaDataIntervalTimetable,
    DeltaTimetable,
)
from flowsched.timetables.presets import ContinuousTimetable, NullTimetable, OnceTimetable
from flowsched.timetables.trigger import CronTriggerTimetable
from flowsched.timetables.upcoming import upcoming_runs

BUILT_IN = (
    ContinuousTimetable,
    CronTimetable,
    CronTriggerTimetable,
    DeltaTimetable,
    EventsTimetable,
    NullTimetable,
    OnceTimetable,
)
"""The timetable classes a DAG may be given: the scheduler rebuilds them from their
serialized form (a user's own subclass would need its code, which it never imports)."""

__all__ = [
    "BUILT_IN",
    "ContinuousTimetable",
    "CronDataIntervalTimetable",
    "CronTimetable",
    "CronTriggerTimetable",
    "DagRunInfo",
    "DataInterval",
    "DeltaDataIntervalTimetable",
    "DeltaTimetable",
    "EventsTimetable",
    "NullTimetable",
    "OnceTimetable",
    "Timetable",
    "describe_schedule",
    "timetable_from_schedule",
    "timetable_from_serialized",
    "upcoming_runs",
]
