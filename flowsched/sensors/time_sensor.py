"""TimeSensor (+ Async): wait until a time of day, in the DAG's time zone."""

from __future__ import annotations

import datetime
from typing import Any

import pendulum

from flowsched.sensors.base import BaseSensorOperator
from flowsched.triggers.temporal import DateTimeTrigger


class TimeSensor(BaseSensorOperator):
    """Done once the wall-clock time in the DAG's zone is past ``target_time``."""

    def __init__(self, *, target_time: datetime.time, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_time = target_time

    def poke(self, context: dict[str, Any]) -> bool:
        self.log.info("Checking if the time (%s) has come", self.target_time)
        return (
            pendulum.now("UTC").in_timezone(self.require_dag().timezone).time().replace(tzinfo=None)
            > self.target_time
        )


class TimeSensorAsync(BaseSensorOperator):
    """Waits, deferred, until ``target_time`` today in the DAG's zone (a past time fires at
    once). "Today" is the day the task starts; Airflow takes the day the file was parsed."""

    def __init__(
        self,
        *,
        target_time: datetime.time,
        start_from_trigger: bool = False,
        trigger_kwargs: dict[str, Any] | None = None,
        end_from_trigger: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.target_time = target_time
        self.start_from_trigger = start_from_trigger
        self.end_from_trigger = end_from_trigger

    @property
    def target_datetime(self) -> pendulum.DateTime:
        zone = self.require_dag().timezone
        today = pendulum.now("UTC").in_timezone(zone).date()
        local = pendulum.datetime(
            today.year,
            today.month,
            today.day,
            self.target_time.hour,
            self.target_time.minute,
            self.target_time.second,
            self.target_time.microsecond,
            tz=zone,
        )
        return local.in_timezone("UTC")

    def execute(self, context: dict[str, Any]) -> None:
        trigger = DateTimeTrigger(
            moment=self.target_datetime, end_from_trigger=self.end_from_trigger
        )
        self.defer(trigger=trigger, method_name="execute_complete")

    def execute_complete(self, context: dict[str, Any], event: Any = None) -> None:
        return None
