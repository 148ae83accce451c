"""Jinja filters for times, durations and states, shared by every template."""

from __future__ import annotations

import json
from datetime import datetime

from flask import Flask


def format_datetime(value: datetime | None) -> str:
    """UTC, to the second: the unit people compare runs in."""
    if value is None:
        return ""
    return value.strftime("%Y-%m-%d %H:%M:%S")


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.2f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    shown = [f"{n}{unit}" for n, unit in parts if n]
    return " ".join(shown[:2]) or "0s"


def state_class(state: str | None) -> str:
    """A CSS class for a run or task state; ``none`` for a task not yet scheduled."""
    return f"state-{state or 'none'}"


def state_label(state: str | None) -> str:
    return (state or "no status").replace("_", " ")


def pretty_json(value: object) -> str:
    """Indented JSON as plain text (autoescaped by the template, unlike Jinja's tojson)."""
    if isinstance(value, str):
        text = value
        try:
            value = json.loads(text)
        except ValueError:
            return text
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def register(app: Flask) -> None:
    app.add_template_filter(format_datetime, "dt")
    app.add_template_filter(format_duration, "duration")
    app.add_template_filter(state_class, "state_class")
    app.add_template_filter(state_label, "state_label")
    app.add_template_filter(pretty_json, "pretty_json")
