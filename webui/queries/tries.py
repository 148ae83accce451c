"""One task instance as the task-try page shows it: its tries, map indexes and XComs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flowsched.db.tables import DagRun, TaskInstance, TaskInstanceHistory, XCom

# None/scheduled/queued: the try has not started yet, so its log may still appear.
TRY_IN_PROGRESS = frozenset({None, "scheduled", "queued", "running"})


@dataclass
class TryRow:
    try_number: int
    state: str | None
    start_date: datetime | None
    end_date: datetime | None
    duration: float | None
    hostname: str | None
    error: str | None = None
    log_error: str | None = None  # why its log file could not be written


def try_is_over(state: str | None) -> bool:
    """Whether the current try of a task instance in ``state`` has ended (its log is whole)."""
    return state not in TRY_IN_PROGRESS


def get_run_or_404(session: Session, dag_id: str, run_id: str) -> DagRun:
    run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if run is None:
        abort(404, f"DAG run {run_id!r} of {dag_id!r} does not exist")
    return run


def get_ti_or_404(
    session: Session, dag_id: str, run_id: str, task_id: str, map_index: int
) -> TaskInstance:
    ti = session.get(TaskInstance, (dag_id, run_id, task_id, map_index))
    if ti is None:
        abort(404, f"task instance {task_id!r} (map index {map_index}) of run {run_id!r} not found")
    return ti


def first_map_index(session: Session, dag_id: str, run_id: str, task_id: str) -> int:
    """-1 for a plain task; a mapped task's pages open on its lowest index."""
    lowest = session.scalar(
        select(func.min(TaskInstance.map_index)).where(
            TaskInstance.dag_id == dag_id,
            TaskInstance.run_id == run_id,
            TaskInstance.task_id == task_id,
        )
    )
    return -1 if lowest is None else lowest


def run_task_instances(session: Session, dag_id: str, run_id: str) -> list[TaskInstance]:
    return list(
        session.scalars(
            select(TaskInstance)
            .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
            .order_by(
                TaskInstance.start_date.is_(None), TaskInstance.start_date, TaskInstance.task_id
            )
        )
    )


def tries_of(session: Session, ti: TaskInstance) -> list[TryRow]:
    """Every try that started (history) with the current one's live values, oldest first."""
    history = session.scalars(
        select(TaskInstanceHistory)
        .where(
            TaskInstanceHistory.dag_id == ti.dag_id,
            TaskInstanceHistory.run_id == ti.run_id,
            TaskInstanceHistory.task_id == ti.task_id,
            TaskInstanceHistory.map_index == ti.map_index,
        )
        .order_by(TaskInstanceHistory.try_number)
    )
    rows = {
        h.try_number: TryRow(
            h.try_number,
            h.state,
            h.start_date,
            h.end_date,
            h.duration,
            h.hostname,
            h.error,
            h.log_error,
        )
        for h in history
    }
    # A cleared instance keeps the number of its last try but no longer its state: that
    # try is then shown as the history recorded it.
    cleared = ti.state is None and ti.try_number in rows
    if ti.try_number > 0 and not cleared:
        rows[ti.try_number] = TryRow(
            ti.try_number,
            ti.state,
            ti.start_date,
            ti.end_date,
            ti.duration,
            ti.hostname,
            rows[ti.try_number].error if ti.try_number in rows else None,
            rows[ti.try_number].log_error if ti.try_number in rows else None,
        )
    return [rows[n] for n in sorted(rows)]


def map_indexes(session: Session, ti: TaskInstance) -> list[tuple[int, str | None]]:
    rows = session.execute(
        select(TaskInstance.map_index, TaskInstance.state)
        .where(
            TaskInstance.dag_id == ti.dag_id,
            TaskInstance.run_id == ti.run_id,
            TaskInstance.task_id == ti.task_id,
        )
        .order_by(TaskInstance.map_index)
    )
    return [(map_index, state) for map_index, state in rows]


def xcoms_of(session: Session, ti: TaskInstance) -> list[XCom]:
    return list(
        session.scalars(
            select(XCom)
            .where(
                XCom.dag_id == ti.dag_id,
                XCom.run_id == ti.run_id,
                XCom.task_id == ti.task_id,
                XCom.map_index == ti.map_index,
            )
            .order_by(XCom.key)
        )
    )
