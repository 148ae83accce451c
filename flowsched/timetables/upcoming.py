"""The next runs a schedule will create, for `flowsched dags next-runs`."""

from __future__ import annotations

from datetime import datetime

from flowsched.timetables.base import DagRunInfo, Timetable
from flowsched.timetables.wallclock import to_utc


def upcoming_runs(
    tt: Timetable,
    *,
    start_date: datetime | None,
    end_date: datetime | None,
    after: datetime,
    n: int,
) -> list[DagRunInfo]:
    """Up to n runs due strictly after `after`, in order.

    Assumes the scheduler has kept up until `after`, so the search starts from the latest
    interval complete at `after` (catchup=False) instead of walking from start_date.
    The walk stops when run times stop advancing: a continuous schedule has no future
    times to list beyond "as soon as possible".
    """
    runs: list[DagRunInfo] = []
    after = to_utc(after)
    previous: DagRunInfo | None = None
    info = tt.next_dagrun_info(
        last_automated_data_interval=None,
        start_date=start_date,
        end_date=end_date,
        catchup=False,
        now=after,
    )
    while info is not None and len(runs) < n:
        if previous is not None and info.run_after <= previous.run_after:
            break
        if info.run_after > after:
            runs.append(info)
        previous, info = (
            info,
            tt.next_dagrun_info(
                last_automated_data_interval=info.data_interval,
                start_date=start_date,
                end_date=end_date,
                catchup=True,
                now=after,
            ),
        )
    return runs
