"""``WeekDay``: the days of the week as ISO numbers (Monday 1 .. Sunday 7), Airflow's enum.

The weekday branch operator and sensor accept a day name, a ``WeekDay`` or a collection
of either; ``validate_week_day`` turns any of those into the set of ISO day numbers.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


@enum.unique
class WeekDay(enum.IntEnum):
    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7

    @classmethod
    def get_weekday_number(cls, week_day_str: str) -> WeekDay:
        """The day named ``week_day_str`` (any case, full English name)."""
        try:
            return cls[week_day_str.upper()]
        except KeyError:
            raise AttributeError(f'Invalid Week Day passed: "{week_day_str}"') from None

    @classmethod
    def convert(cls, day: str | WeekDay) -> int:
        return day if isinstance(day, WeekDay) else cls.get_weekday_number(day)

    @classmethod
    def validate_week_day(
        cls, week_day: str | WeekDay | Iterable[str] | Iterable[WeekDay]
    ) -> set[int]:
        """The ISO numbers of the given day(s); a TypeError for anything else, as Airflow."""
        if isinstance(week_day, str | WeekDay):
            return {cls.convert(week_day)}
        if not isinstance(week_day, Iterable):
            raise TypeError(
                f"Unsupported Type for week_day parameter: {type(week_day)}. Input should be "
                "iterable type: str, set, list, dict or Weekday enum type"
            )
        return {cls.convert(day) for day in week_day}
