"""Turn user-given dates into aware pendulum datetimes, reading naive ones in the default zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pendulum


def default_timezone() -> pendulum.Timezone | pendulum.FixedTimezone:
    from flowsched.config import conf

    return pendulum.timezone(conf.core.default_timezone)


def to_pendulum(value: object, what: str) -> pendulum.DateTime | None:
    """``what`` names the argument in the error, e.g. "DAG 'etl': start_date"."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return pendulum.instance(value, tz=default_timezone())
        return pendulum.instance(value)
    if isinstance(value, date):
        return pendulum.datetime(value.year, value.month, value.day, tz=default_timezone())
    raise TypeError(f"{what} must be a datetime, not {type(value).__name__} ({value!r})")


def to_timedelta(value: object, what: str) -> timedelta | None:
    """Durations may be a timedelta or a number of seconds, as Airflow allows for retry_delay."""
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    raise TypeError(f"{what} must be a timedelta or seconds, not {type(value).__name__}")


def iso_utc(value: datetime | None) -> str | None:
    return None if value is None else pendulum.instance(value).in_timezone("UTC").isoformat()


def days_ago(
    n: int, hour: int = 0, minute: int = 0, second: int = 0, microsecond: int = 0
) -> pendulum.DateTime:
    """Midnight UTC (or the given time of day) ``n`` days ago: Airflow's old ``start_date``
    helper, kept for DAG files that still use it."""
    today = pendulum.instance(datetime.now(UTC)).replace(
        hour=hour, minute=minute, second=second, microsecond=microsecond
    )
    return today - timedelta(days=n)
