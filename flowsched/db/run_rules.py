"""What makes a DAG run row, for the scheduler and for the operations (trigger,
backfill) alike: the run types, Airflow's run ids, a new queued run, finding a run."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flowsched.db.base import utcnow
from flowsched.db.dagrun import DagRun
from flowsched.db.states import DagRunState

if TYPE_CHECKING:
    from flowsched.timetables import DataInterval

SCHEDULED, MANUAL, BACKFILL = "scheduled", "manual", "backfill"
TEST = "test"  # `dags test` runs its run itself; schedulers leave it alone


def run_id_for(run_type: str, logical_date: datetime) -> str:
    """``scheduled__2024-01-01T00:00:00+00:00``, as Airflow names runs."""
    return f"{run_type}__{logical_date.isoformat()}"


def new_run(
    dag_id: str,
    run_type: str,
    interval: DataInterval,
    *,
    run_after: datetime,
    logical_date: datetime | None = None,
    conf: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    triggered_by: str | None = None,
    moved_by_dst: bool = False,
) -> DagRun:
    """A queued run (not yet added to a session). Its logical date is the interval start,
    unless given (a manual run's is the moment it was triggered for)."""
    logical_date = logical_date or interval.start
    return DagRun(
        dag_id=dag_id,
        run_id=run_id or run_id_for(run_type, logical_date),
        run_type=run_type,
        logical_date=logical_date,
        data_interval_start=interval.start,
        data_interval_end=interval.end,
        run_after=run_after,
        state=DagRunState.QUEUED,
        queued_at=utcnow(),
        conf=dict(conf or {}),
        # As in Airflow, only a run someone asked for is an external trigger: backfill and
        # `dags test` runs are not (LatestOnlyOperator skips on them outside the latest interval).
        external_trigger=run_type == MANUAL,
        triggered_by=triggered_by,
        moved_by_dst=moved_by_dst,
    )


def run_exists(
    session: Session,
    dag_id: str,
    *,
    logical_date: datetime | None = None,
    run_id: str | None = None,
) -> DagRun | None:
    """The run of ``dag_id`` at ``logical_date`` or named ``run_id``, if there is one."""
    query = select(DagRun).where(DagRun.dag_id == dag_id)
    if logical_date is not None:
        query = query.where(DagRun.logical_date == logical_date)
    if run_id is not None:
        query = query.where(DagRun.run_id == run_id)
    return session.scalars(query.limit(1)).first()
