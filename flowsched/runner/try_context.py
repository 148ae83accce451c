"""The context of one try, from the rows that describe its run.

``make_context`` (authoring) builds the dict from plain values; this module finds those
values in the database, so that a task sees its real run: the run's conf and data
interval, and the previous successful run of the same DAG.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flowsched.authoring.context import context_of_run
from flowsched.db.tables import DagRun, DagRunState

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG
    from flowsched.runner.task_instance import RuntimeTaskInstance


def previous_success(session: Session, dag_run: DagRun) -> DagRun | None:
    """The latest successful run of the DAG before this one (by logical date)."""
    return session.scalar(
        select(DagRun)
        .where(
            DagRun.dag_id == dag_run.dag_id,
            DagRun.state == DagRunState.SUCCESS,
            DagRun.logical_date < dag_run.logical_date,
        )
        .order_by(DagRun.logical_date.desc())
        .limit(1)
    )


def try_context(
    dag: DAG,
    task: Any,
    ti: RuntimeTaskInstance,
    dag_run: DagRun,
    previous: DagRun | None,
    *,
    test_mode: bool = False,
) -> dict[str, Any]:
    return context_of_run(
        dag=dag,
        task=task,
        dag_run=dag_run,
        ti=ti,
        map_index=ti.map_index,
        prev_data_interval_start_success=previous.data_interval_start if previous else None,
        prev_data_interval_end_success=previous.data_interval_end if previous else None,
        prev_start_date_success=previous.start_date if previous else None,
        prev_end_date_success=previous.end_date if previous else None,
        test_mode=test_mode,
    )
