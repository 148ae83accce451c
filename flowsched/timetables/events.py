"""Airflow's EventsTimetable: runs at a fixed list of instants (irregular schedules)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pendulum

from flowsched.timetables.base import DagRunInfo, DataInterval, Timetable, as_pendulum
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

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        start_date: datetime | None,
        end_date: datetime | None,
        catchup: bool,
        now: datetime,
    ) -> DagRunInfo | None:
        """The first event at or after start_date (without catchup: at or after now) that
        comes after the last run, as Airflow picks it."""
        earliest = to_utc(start_date) if start_date is not None else None
        if not catchup and (earliest is None or to_utc(now) > earliest):
            earliest = to_utc(now)
        last = to_utc(last_automated_data_interval.end) if last_automated_data_interval else None
        for event in self.event_dates:
            if (earliest is None or event >= earliest) and (last is None or event > last):
                if end_date is not None and event > to_utc(end_date):
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
