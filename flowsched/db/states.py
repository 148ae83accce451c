"""Run and task-instance states, and the one way to change them.

Every change is a guarded UPDATE checked for exactly one affected row: a scheduler, a
worker, the CLI and the UI may race on the same row, and the loser must find out instead
of silently overwriting the winner. This is what keeps "no try runs twice" true.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, or_, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from flowsched.db import rows_changed
from flowsched.db.dagrun import DagRun
from flowsched.db.taskinstance import TaskInstance
from flowsched.tries import TaskKey


class DagRunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"


# Passed where a finished run's state goes, it asks the DAG-callback child (started by
# ``executors.dag_callbacks``) for the DAG's ``sla_miss_callback`` instead.
SLA_MISS = "sla_miss"


class TaskInstanceState(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    UP_FOR_RETRY = "up_for_retry"
    UP_FOR_RESCHEDULE = "up_for_reschedule"
    UPSTREAM_FAILED = "upstream_failed"
    SKIPPED = "skipped"
    REMOVED = "removed"


TI = TaskInstanceState
FINISHED_TI_STATES = frozenset({TI.SUCCESS, TI.FAILED, TI.UPSTREAM_FAILED, TI.SKIPPED, TI.REMOVED})
UNFINISHED_TI_STATES = frozenset(
    {None, TI.SCHEDULED, TI.QUEUED, TI.RUNNING, TI.UP_FOR_RETRY, TI.UP_FOR_RESCHEDULE}
)
RUNNING_TI_STATES = frozenset({TI.QUEUED, TI.RUNNING})
FINISHED_RUN_STATES = frozenset({DagRunState.SUCCESS, DagRunState.FAILED})


def state_in(
    column: InstrumentedAttribute[str | None], expected: Iterable[str | None]
) -> ColumnElement[bool]:
    states = [s for s in expected if s is not None]
    condition: ColumnElement[bool] = column.in_(states)
    if None in expected:
        condition = or_(condition, column.is_(None))
    return condition


def transition_ti(
    session: Session,
    *,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int = -1,
    expected: Iterable[str | None],
    new: str | None,
    try_number: int | None = None,
    **values: Any,
) -> bool:
    """Move one task instance from one of ``expected`` to ``new``; True if this call won."""
    expected = list(expected)
    statement = (
        update(TaskInstance)
        .where(
            TaskInstance.dag_id == dag_id,
            TaskInstance.run_id == run_id,
            TaskInstance.task_id == task_id,
            TaskInstance.map_index == map_index,
            state_in(TaskInstance.state, expected),
        )
        .values(state=new, **values)
        .execution_options(synchronize_session=False)
    )
    if try_number is not None:
        statement = statement.where(TaskInstance.try_number == try_number)
    return rows_changed(session, statement) == 1


def holds_try(session: Session, key: TaskKey, states: Collection[str]) -> bool:
    """Whether the task instance still holds try ``key`` in one of ``states`` (a later try,
    or a clear, means that this one is over)."""
    row = session.get(TaskInstance, (key.dag_id, key.run_id, key.task_id, key.map_index))
    return row is not None and row.try_number == key.try_number and row.state in states


def transition_run(
    session: Session,
    *,
    dag_id: str,
    run_id: str,
    expected: Iterable[str],
    new: str,
    **values: Any,
) -> bool:
    """Move one DAG run from one of ``expected`` to ``new``; True if this call won."""
    statement = (
        update(DagRun)
        .where(DagRun.dag_id == dag_id, DagRun.run_id == run_id, DagRun.state.in_(list(expected)))
        .values(state=new, **values)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(session, statement) == 1
