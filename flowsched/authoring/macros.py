"""``{{ macros.* }}`` in templates: the names Airflow's ``airflow.macros`` module offers."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta
from random import random

import dateutil
import pendulum

__all__ = [
    "datetime",
    "datetime_diff_for_humans",
    "dateutil",
    "ds_add",
    "ds_format",
    "json",
    "random",
    "time",
    "timedelta",
    "uuid",
]


def ds_add(ds: str, days: int) -> str:
    """``ds_add("2024-01-01", 7)`` -> "2024-01-08"."""
    if not days:
        return str(ds)
    return (datetime.strptime(str(ds), "%Y-%m-%d") + timedelta(days=days)).strftime("%Y-%m-%d")


def ds_format(ds: str, input_format: str, output_format: str) -> str:
    """``ds_format("2024-01-05", "%Y-%m-%d", "%m-%d-%y")`` -> "01-05-24"."""
    return datetime.strptime(str(ds), input_format).strftime(output_format)


def datetime_diff_for_humans(dt: datetime, since: datetime | None = None) -> str:
    """Words such as "3 days ago", relative to ``since`` (default: now)."""
    other = pendulum.instance(since) if since is not None else pendulum.now("UTC")
    return pendulum.instance(dt).diff_for_humans(other)
