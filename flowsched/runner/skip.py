"""Marking the tasks a branch did not choose as ``skipped``, in the branch's own commit.

Done in the same transaction that records the branch's success: the scheduler must never
see the branch finished while the tasks it ruled out still look runnable.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from flowsched.db.states import transition_ti
from flowsched.db.tables import TaskInstance, TaskInstanceState, utcnow

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG

SKIPPABLE = (None, TaskInstanceState.SCHEDULED)


def skip_tasks(session: Session, dag: DAG, run_id: str, task_ids: Iterable[str]) -> None:
    """Skip every instance of ``task_ids`` in the run that has not started; create the
    rows the scheduler has not made yet, so the decision cannot be lost."""
    task_ids = sorted(set(task_ids))
    now = utcnow()
    existing = session.execute(
        select(TaskInstance.task_id, TaskInstance.map_index).where(
            TaskInstance.dag_id == dag.dag_id,
            TaskInstance.run_id == run_id,
            TaskInstance.task_id.in_(task_ids),
        )
    ).all()
    for task_id, map_index in existing:
        transition_ti(
            session,
            dag_id=dag.dag_id,
            run_id=run_id,
            task_id=task_id,
            map_index=map_index,
            expected=SKIPPABLE,
            new=TaskInstanceState.SKIPPED,
            start_date=now,
            end_date=now,
            duration=0.0,
        )
    for task_id in sorted(set(task_ids) - {task_id for task_id, _ in existing}):
        session.add(_skipped_row(dag, run_id, task_id, now))


def _skipped_row(dag: DAG, run_id: str, task_id: str, now: datetime) -> TaskInstance:
    task = dag.get_task(task_id)
    return TaskInstance(
        dag_id=dag.dag_id,
        run_id=run_id,
        task_id=task_id,
        map_index=-1,
        state=TaskInstanceState.SKIPPED,
        start_date=now,
        end_date=now,
        duration=0.0,
        max_tries=task.retries,
        operator=task.operator_name,
        pool=task.pool,
        pool_slots=task.pool_slots,
        queue=task.queue,
        priority_weight=task.priority_weight,
    )
