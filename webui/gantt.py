"""Bars of a run's Gantt chart: when each task instance waited in the queue and ran."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flowsched.db.tables import TaskInstance


@dataclass
class Bar:
    ti: TaskInstance
    queued_at: float  # percent of the chart's width from its left edge
    started_at: float
    ended_at: float


@dataclass
class Gantt:
    bars: list[Bar]
    start: datetime | None
    end: datetime | None

    @property
    def span_seconds(self) -> float:
        return (self.end - self.start).total_seconds() if self.start and self.end else 0.0


def build_gantt(tis: list[TaskInstance], now: datetime) -> Gantt:
    """Started task instances only; a running one's bar reaches ``now``."""
    started = [(ti, ti.start_date) for ti in tis if ti.start_date is not None]
    if not started:
        return Gantt([], None, None)
    start = min(ti.queued_dttm or began for ti, began in started)
    end = max(ti.end_date or now for ti, _ in started)
    span = max((end - start).total_seconds(), 1e-6)

    def percent(moment: datetime) -> float:
        return round(100 * (moment - start).total_seconds() / span, 3)

    bars = [
        Bar(ti, percent(ti.queued_dttm or began), percent(began), percent(ti.end_date or now))
        for ti, began in started
    ]
    return Gantt(bars, start, end)
