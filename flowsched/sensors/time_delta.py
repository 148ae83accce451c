"""TimeDeltaSensor (+ Async): wait until ``delta`` after the run's data interval ended."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pendulum

from flowsched.exceptions import TaskSkipped
from flowsched.sensors.base import BaseSensorOperator
from flowsched.triggers.temporal import DateTimeTrigger


class TimeDeltaSensor(BaseSensorOperator):
    """Done once now is past ``data_interval_end + delta``."""

    def __init__(self, *, delta: timedelta, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delta = delta

    def _target(self, context: dict[str, Any]) -> datetime:
        return context["data_interval_end"] + self.delta

    def poke(self, context: dict[str, Any]) -> bool:
        target = self._target(context)
        self.log.info("Checking if the time (%s) has come", target)
        return pendulum.now("UTC") > target


class TimeDeltaSensorAsync(TimeDeltaSensor):
    """The same wait, deferred: no worker slot is held until the moment comes."""

    def __init__(self, *, end_from_trigger: bool = False, delta: timedelta, **kwargs: Any) -> None:
        super().__init__(delta=delta, **kwargs)
        self.end_from_trigger = end_from_trigger

    def execute(self, context: dict[str, Any]) -> bool | None:
        target = self._target(context)
        if pendulum.now("UTC") > target:
            return True  # Airflow returns (and so pushes) True when there is nothing to wait for
        try:
            trigger = DateTimeTrigger(moment=target, end_from_trigger=self.end_from_trigger)
        except (TypeError, ValueError) as error:
            if self.soft_fail:
                raise TaskSkipped("Skipping due to soft_fail is set to True.") from error
            raise
        self.defer(trigger=trigger, method_name="execute_complete")

    def execute_complete(self, context: dict[str, Any], event: Any = None) -> None:
        return None
