"""Airflow's EventsTimetable: runs at a fixed list of instants (irregular schedules)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pendulum

from flowsched.timetables.base import (
    DagRunInfo,
    DataInterval,
    RunBounds,
    Timetable,
    as_pendulum,
)
from flowsched.timetables.wallclock import to_utc


class EventsTimetable(Timetable):
    """``EventsTimetable([pendulum.datetime(2025, 3, 1, 9, tz="Europe/Paris"), ...])``: one run
    at each listed instant; each run's data interval is that instant."""

    kind = "events"

    def __init__(
        self,
        event_dates: Iterable[datetime],
        restrict_to_events: bool = False,
        presorted: bool = False,
        description: str | None = None,
    ) -> None:
        super().__init__("UTC")
        dates = [as_pendulum(_aware(date)) for date in event_dates]
        self.event_dates = dates if presorted else sorted(dates)
        self.restrict_to_events = restrict_to_events
        self._description = description

    @property
    def summary(self) -> str:
        return self._description or f"{len(self.event_dates)} events"

    @property
    def description(self) -> str:
        if self._description:
            return self._description
        if not self.event_dates:
            return "No events"
        first, last = self.event_dates[0], self.event_dates[-1]
        return f"{len(self.event_dates)} events between {first} and {last}"

    def serialize(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "events": [date.isoformat() for date in self.event_dates],
            "restrict_to_events": self.restrict_to_events,
            "description": self._description,
        }

    def _next_run(self, bounds: RunBounds) -> DagRunInfo | None:
        """The first event at or after start_date (without catchup: at or after now) that
        comes after the last run, as Airflow picks it."""
        earliest = bounds.start_date if bounds.catchup else max(bounds.start_date, bounds.now)
        for event in self.event_dates:
            if event >= earliest and (bounds.last_end is None or event > bounds.last_end):
                if bounds.end_date is not None and event > bounds.end_date:
                    return None
                return DagRunInfo(event, DataInterval.exact(event))
        return None

    def infer_manual_data_interval(self, run_after: datetime) -> DataInterval:
        """The run's own instant; with restrict_to_events, the latest event before it (or
        the first event, if all are later)."""
        if not self.restrict_to_events or not self.event_dates:
            return DataInterval.exact(run_after)
        run_after = to_utc(run_after)
        past = [event for event in self.event_dates if event <= run_after]
        return DataInterval.exact(past[-1] if past else self.event_dates[0])


def _aware(date: datetime) -> datetime:
    """Naive event dates are read in UTC, like every naive instant given to a timetable."""
    return date if date.tzinfo is not None else pendulum.instance(date, tz="UTC")
