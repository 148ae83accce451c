"""Drive a timetable the way the scheduler does: ask for the next run until there is none."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from flowsched.timetables import DagRunInfo, Timetable

Scheduler = Callable[..., list[DagRunInfo]]


def _scheduled_runs(
    tt: Timetable,
    *,
    start_date: datetime,
    until: datetime,
    end_date: datetime | None = None,
    catchup: bool = True,
) -> list[DagRunInfo]:
    """Every run a scheduler that is awake at `until` has created by then, in order."""
    runs: list[DagRunInfo] = []
    while True:
        info = tt.next_dagrun_info(
            last_automated_data_interval=runs[-1].data_interval if runs else None,
            start_date=start_date,
            end_date=end_date,
            catchup=catchup,
            now=until,
        )
        if info is None or info.run_after > until:
            return runs
        runs.append(info)


@pytest.fixture
def scheduled_runs() -> Scheduler:
    return _scheduled_runs
