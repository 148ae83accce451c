"""Read a DAG's ``schedule`` argument into the serialized ``schedule`` dict.

Cron strings are checked here, when the DAG is defined, so a typo is an import error that
names the DAG rather than a scheduler failure later.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flowsched.exceptions import DagDefinitionError

PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
SPECIAL = {"@once": "once", "@continuous": "continuous"}


def schedule_to_dict(schedule: Any, dag_id: str) -> dict[str, Any]:
    """``{"kind": none|once|continuous|cron|delta, ...}`` as in docs/architecture.md."""
    if schedule is None:
        return {"kind": "none"}
    if isinstance(schedule, timedelta):
        return _delta(schedule, dag_id)
    if isinstance(schedule, str):
        return _string(schedule.strip(), dag_id)
    from flowsched.timetables import Timetable  # only DAGs given a timetable object pay for it

    if isinstance(schedule, Timetable):
        return _timetable(schedule, dag_id)
    raise TypeError(
        f"DAG {dag_id!r}: schedule must be None, a cron string, a preset such as '@daily', "
        f"a timedelta or a timetable, not {type(schedule).__name__} ({schedule!r})"
    )


def _timetable(timetable: Any, dag_id: str) -> dict[str, Any]:
    """A timetable object (Airflow's CronTriggerTimetable, EventsTimetable...) is stored as
    its serialized form plus its own zone, so the scheduler rebuilds the same schedule."""
    from flowsched import timetables

    if type(timetable) not in timetables.BUILT_IN:
        raise DagDefinitionError(
            f"DAG {dag_id!r}: custom timetable class {type(timetable).__name__} is not "
            "supported (the scheduler never imports DAG code); use a cron string, a "
            "timedelta, CronTriggerTimetable or EventsTimetable"
        )
    return {**timetable.serialize(), "timezone": timetable.timezone}


def _delta(schedule: timedelta, dag_id: str) -> dict[str, Any]:
    if schedule <= timedelta(0):
        raise DagDefinitionError(f"DAG {dag_id!r}: schedule timedelta must be positive")
    return {"kind": "delta", "seconds": schedule.total_seconds()}


def _string(schedule: str, dag_id: str) -> dict[str, Any]:
    if schedule in SPECIAL:
        return {"kind": SPECIAL[schedule]}
    if schedule in PRESETS:
        return {"kind": "cron", "expr": PRESETS[schedule], "preset": schedule}
    if schedule.startswith("@"):
        known = ", ".join([*SPECIAL, *PRESETS])
        raise DagDefinitionError(
            f"DAG {dag_id!r}: unknown schedule preset {schedule!r}; use one of {known}"
        )
    expr = " ".join(schedule.split())
    validate_cron(expr, dag_id)
    return {"kind": "cron", "expr": expr}


def validate_cron(expr: str, dag_id: str) -> None:
    from croniter import CroniterBadDateError, CroniterError, croniter

    fields = expr.split()
    if len(fields) != 5:
        raise DagDefinitionError(
            f"DAG {dag_id!r}: invalid cron schedule {expr!r}: expected 5 fields "
            f"(minute hour day-of-month month day-of-week), got {len(fields)}"
        )
    try:
        croniter(expr, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        raise DagDefinitionError(
            f"DAG {dag_id!r}: cron schedule {expr!r} never matches a date"
        ) from None
    except (CroniterError, ValueError) as err:
        raise DagDefinitionError(f"DAG {dag_id!r}: invalid cron schedule {expr!r}: {err}") from None
