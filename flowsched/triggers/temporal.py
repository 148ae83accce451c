"""DateTimeTrigger / TimeDeltaTrigger: fire at a moment."""

from __future__ import annotations

import datetime
from typing import Any

import pendulum

from flowsched.triggers.base import BaseTrigger, TriggerEvent


class DateTimeTrigger(BaseTrigger):
    """Fires once ``moment`` (timezone-aware) has come; the event's payload is the moment."""

    def __init__(self, moment: datetime.datetime, *, end_from_trigger: bool = False) -> None:
        if not isinstance(moment, datetime.datetime):
            raise TypeError(f"Expected datetime.datetime type for moment. Got {type(moment)}")
        if moment.tzinfo is None:
            raise ValueError("You cannot pass naive datetimes")
        self.moment = pendulum.instance(moment).in_timezone("UTC")
        self.end_from_trigger = end_from_trigger

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "flowsched.triggers.temporal.DateTimeTrigger",
            {"moment": self.moment, "end_from_trigger": self.end_from_trigger},
        )

    def poll(self) -> TriggerEvent | None:
        if pendulum.now("UTC") < self.moment:
            return None
        return TriggerEvent(self.moment)

    def next_check(self, now: datetime.datetime) -> datetime.datetime:
        return max(now, self.moment)


class TimeDeltaTrigger(DateTimeTrigger):
    """Fires ``delta`` after it was created; stored as the DateTimeTrigger it amounts to."""

    def __init__(self, delta: datetime.timedelta, *, end_from_trigger: bool = False) -> None:
        super().__init__(pendulum.now("UTC") + delta, end_from_trigger=end_from_trigger)
