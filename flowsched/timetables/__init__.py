"""Schedules, data intervals and DST (docs/concepts.md, "Time zones and daylight saving time").

All instants returned are pendulum DateTimes in UTC; cron fields are read in the DAG's
zone. See cron_times.py for the exact DST rules.
"""

from flowsched.timetables.base import DagRunInfo, DataInterval, Timetable
from flowsched.timetables.cron import CronTimetable
from flowsched.timetables.describe import describe_schedule
from flowsched.timetables.factory import timetable_from_schedule, timetable_from_serialized
from flowsched.timetables.interval import DeltaTimetable
from flowsched.timetables.presets import ContinuousTimetable, NullTimetable, OnceTimetable
from flowsched.timetables.upcoming import upcoming_runs

__all__ = [
    "ContinuousTimetable",
    "CronTimetable",
    "DagRunInfo",
    "DataInterval",
    "DeltaTimetable",
    "NullTimetable",
    "OnceTimetable",
    "Timetable",
    "describe_schedule",
    "timetable_from_schedule",
    "timetable_from_serialized",
    "upcoming_runs",
]
