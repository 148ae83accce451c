"""SLA misses: a task with ``sla`` that is not done by its run's data interval end + sla.

As in Airflow, only scheduled runs have SLAs (a manual run has no interval to be late
against). A miss is recorded once per task instance (``sla_miss``'s primary key), listed
in the UI, alerted through the ``[alerts]`` path (e-mail to the task's ``email`` or
``[alerts] email``, the webhooks), and the DAG's ``sla_miss_callback`` runs in a child
process, as the DAG callbacks do. A task instance counts as done when it succeeded or was
skipped at or before the deadline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from flowsched.db.states import SLA_MISS, DagRunState, TaskInstanceState
from flowsched.db.tables import DagRun, SlaMiss, TaskInstance
from flowsched.executors import dag_callbacks
from flowsched.scheduling.dagstore import DagStore
from flowsched.serialized import SerializedDAG

log = logging.getLogger(__name__)
DONE = (TaskInstanceState.SUCCESS, TaskInstanceState.SKIPPED)
SCHEDULED = "scheduled"


@dataclass(frozen=True)
class Miss:
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    logical_date: datetime
    sla: timedelta
    deadline: datetime
    state: str | None
    email: tuple[str, ...]  # the task's, who the alert goes to (else [alerts] email)


def record_sla_misses(
    session: Session, store: DagStore, now: datetime, since: datetime
) -> list[Miss]:
    """Record the misses of scheduled runs still going or ended after ``since`` (the
    previous check); alerts and callbacks follow the commit. The new misses."""
    runs = session.execute(
        select(DagRun.dag_id, DagRun.run_id, DagRun.logical_date, DagRun.data_interval_end).where(
            DagRun.run_type == SCHEDULED,
            DagRun.data_interval_end.is_not(None),
            or_(
                DagRun.state.in_([DagRunState.QUEUED, DagRunState.RUNNING]),
                DagRun.end_date >= since,
            ),
        )
    ).all()
    misses: list[Miss] = []
    callbacks: set[str] = set()
    for dag_id, run_id, logical_date, interval_end in runs:
        dag = store.get(session, dag_id)
        if dag is None or interval_end is None:
            continue
        if any(task.sla is not None for task in dag.tasks):
            misses += _run_misses(session, dag, run_id, logical_date, interval_end, now)
            if dag.has_sla_miss_callback:
                callbacks.add(dag_id)
    if misses:
        session.add_all(_row(miss, now) for miss in misses)
        event.listen(session, "after_commit", lambda _s: _announce(misses, callbacks), once=True)
    return misses


def _run_misses(
    session: Session,
    dag: SerializedDAG,
    run_id: str,
    logical_date: datetime,
    interval_end: datetime,
    now: datetime,
) -> list[Miss]:
    deadlines = {
        task.task_id: (task.sla, interval_end + task.sla, task.email)
        for task in dag.tasks
        if task.sla is not None and interval_end + task.sla <= now
    }
    if not deadlines:
        return []
    recorded = select(SlaMiss.task_id, SlaMiss.map_index).where(
        SlaMiss.dag_id == dag.dag_id, SlaMiss.run_id == run_id
    )
    known = {tuple(row) for row in session.execute(recorded)}
    rows = session.execute(
        select(
            TaskInstance.task_id,
            TaskInstance.map_index,
            TaskInstance.state,
            TaskInstance.end_date,
        ).where(
            TaskInstance.dag_id == dag.dag_id,
            TaskInstance.run_id == run_id,
            TaskInstance.task_id.in_(sorted(deadlines)),
        )
    )
    misses = []
    for task_id, map_index, state, end_date in rows:
        sla, deadline, email = deadlines[task_id]
        on_time = state in DONE and end_date is not None and end_date <= deadline
        if not on_time and (task_id, map_index) not in known:
            late = state if state not in DONE else "running"  # it ended after the deadline
            misses.append(
                Miss(
                    dag.dag_id, run_id, task_id, map_index, logical_date, sla, deadline, late, email
                )
            )
    return misses


def _row(miss: Miss, now: datetime) -> SlaMiss:
    return SlaMiss(
        dag_id=miss.dag_id,
        run_id=miss.run_id,
        task_id=miss.task_id,
        map_index=miss.map_index,
        logical_date=miss.logical_date,
        sla=miss.sla.total_seconds(),
        deadline=miss.deadline,
        state_at_deadline=miss.state,
        detected_at=now,
        notification_sent=True,
    )


def _announce(misses: list[Miss], callbacks: set[str]) -> None:
    """After the commit: one alert per miss, and each DAG's sla_miss_callback once per run."""
    from flowsched.notify import TaskEvent, dispatch_in_background

    for miss in misses:
        log.warning(
            "SLA missed: %s.%s in run %s was not done by %s",
            miss.dag_id,
            miss.task_id,
            miss.run_id,
            miss.deadline.isoformat(),
        )
        dispatch_in_background(
            TaskEvent(
                kind="sla_miss",
                dag_id=miss.dag_id,
                task_id=miss.task_id,
                run_id=miss.run_id,
                logical_date=miss.logical_date,
                map_index=miss.map_index,
                state=miss.state,
                recipients=list(miss.email),
                exception=(
                    f"not done {miss.sla.total_seconds():g} s after the end of its data "
                    f"interval (deadline {miss.deadline.isoformat()}); state: {miss.state}"
                ),
            )
        )
    for dag_id, run_id in dict.fromkeys((miss.dag_id, miss.run_id) for miss in misses):
        if dag_id in callbacks:
            dag_callbacks.start(dag_id, run_id, SLA_MISS, "sla missed")
