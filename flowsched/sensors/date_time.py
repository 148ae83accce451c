"""DateTimeSensor (+ Async): wait until a (templated) date and time."""

from __future__ import annotations

import datetime
from typing import Any

import pendulum

from flowsched.sensors.base import BaseSensorOperator
from flowsched.triggers.temporal import DateTimeTrigger


def parse_target(value: str) -> pendulum.DateTime:
    """A rendered ``target_time``; without an offset it is UTC, as in Airflow."""
    parsed = pendulum.parse(value, tz="UTC")
    assert isinstance(parsed, pendulum.DateTime)
    return parsed


class DateTimeSensor(BaseSensorOperator):
    """Done once now is past ``target_time``, e.g. ``"{{ data_interval_end.add(hours=2) }}"``:
    unlike TimeSensor, a catch-up run whose moment has passed does not wait."""

    template_fields = ("target_time",)

    def __init__(self, *, target_time: str | datetime.datetime, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(target_time, datetime.datetime):
            self.target_time = target_time.isoformat()
        elif isinstance(target_time, str):
            self.target_time = target_time
        else:
            raise TypeError(
                f"Expected str or datetime.datetime type for target_time. Got {type(target_time)}"
            )

    def poke(self, context: dict[str, Any]) -> bool:
        self.log.info("Checking if the time (%s) has come", self.target_time)
        return pendulum.now("UTC") > parse_target(self.target_time)


class DateTimeSensorAsync(DateTimeSensor):
    """The same wait, deferred: no worker slot is held until the moment comes."""

    def __init__(
        self,
        *,
        start_from_trigger: bool = False,
        end_from_trigger: bool = False,
        trigger_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.start_from_trigger = start_from_trigger
        self.end_from_trigger = end_from_trigger

    def execute(self, context: dict[str, Any]) -> None:
        trigger = DateTimeTrigger(
            moment=parse_target(self.target_time), end_from_trigger=self.end_from_trigger
        )
        self.defer(trigger=trigger, method_name="execute_complete")

    def execute_complete(self, context: dict[str, Any], event: Any = None) -> None:
        return None
