"""Schedules in words, for the UI and `flowsched dags next-runs`.

Works on the serialized "schedule" dict too, so the web UI and CLI can describe a DAG
without building its timetable.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cron_descriptor import get_description

from flowsched.timetables.cron_times import cron_fields

NEVER_WORDS = "Never, only when triggered"
ONCE_WORDS = "Once, at the start date"
CONTINUOUS_WORDS = "As often as possible, one run at a time"

_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60))


def describe_cron(expr: str) -> str:
    """E.g. "30 2 * * *" -> "At 02:30 AM"; presets are described by their cron."""
    return str(get_description(cron_fields(expr)))


def describe_delta(delta: timedelta) -> str:
    """E.g. timedelta(hours=1, minutes=30) -> "Every 1 hour, 30 minutes"."""
    remaining = delta.total_seconds()
    parts = []
    for unit, seconds in _UNITS:
        count, remaining = divmod(remaining, seconds)
        if count:
            parts.append(_plural(count, unit))
    if remaining:
        parts.append(_plural(remaining, "second"))
    return "Every " + ", ".join(parts)


def _plural(count: float, unit: str) -> str:
    return f"{count:g} {unit}{'' if count == 1 else 's'}"


def describe_schedule(schedule: dict[str, Any]) -> str:
    """Words for a serialized schedule: {"kind": ..., "expr"/"seconds": ...}."""
    kind = schedule["kind"]
    if kind in ("cron", "cron_trigger"):
        return describe_cron(schedule["expr"])
    if kind == "events":
        return schedule["description"] or f"{len(schedule['events'])} listed events"
    if kind == "delta":
        return describe_delta(timedelta(seconds=schedule["seconds"]))
    words = {"none": NEVER_WORDS, "once": ONCE_WORDS, "continuous": CONTINUOUS_WORDS}
    if kind not in words:
        raise ValueError(f"Unknown schedule kind {kind!r}")
    return words[kind]
