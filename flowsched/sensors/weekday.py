"""DayOfWeekSensor: wait until one of the given weekdays."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pendulum

from flowsched.sensors.base import BaseSensorOperator
from flowsched.utils.weekday import WeekDay


class DayOfWeekSensor(BaseSensorOperator):
    """Done on a day in ``week_day`` (names, ``WeekDay``s, or one of either): today in UTC,
    or the run's logical date with ``use_task_logical_date``, as in Airflow."""

    def __init__(
        self,
        *,
        week_day: str | Iterable[str] | WeekDay | Iterable[WeekDay],
        use_task_logical_date: bool = False,
        use_task_execution_day: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.week_day = week_day
        self.use_task_logical_date = use_task_logical_date or use_task_execution_day
        self._week_day_num = WeekDay.validate_week_day(week_day)

    def poke(self, context: dict[str, Any]) -> bool:
        today = pendulum.now("UTC").isoweekday()
        self.log.info(
            "Poking until weekday is in %s, Today is %s", self.week_day, WeekDay(today).name
        )
        if self.use_task_logical_date:
            return context["logical_date"].isoweekday() in self._week_day_num
        return today in self._week_day_num
