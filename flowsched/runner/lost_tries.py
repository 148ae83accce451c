"""Failing a try that could not record its own end.

The try's process died (a crash, a kill, a timeout), or it never started (its DAG file no
longer loads, its worker died). Its supervisor then applies the failure policy in its
place, with a message saying what happened, in the try's log as well; the task's
callbacks still run (here, with as much of the context as can be rebuilt), so that a
crash is announced like any other failure.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flowsched.db import session_scope
from flowsched.db.failure import FailurePolicy
from flowsched.db.outage import until_reachable
from flowsched.db.tables import DagRun, SerializedDagModel, TaskInstance
from flowsched.notify.failure_alerts import wait_for_alerts
from flowsched.runner.failure import handle_failure
from flowsched.runner.log_capture import capture_try_output, supervisor_log
from flowsched.runner.task_instance import RuntimeTaskInstance
from flowsched.runner.try_context import previous_success, try_context
from flowsched.task_logs import log_path
from flowsched.tries import TaskKey

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG

logger = logging.getLogger("flowsched.executor")


def fail_try(key: TaskKey, message: str, *, dag: DAG | None = None) -> str | None:
    """Apply the failure policy to a try that could not record its own end.

    Returns the state the task instance is in afterwards, whoever set it.
    """
    logger.error("%s: %s", key, message)
    with supervisor_log(log_path(*key)) as sink, capture_try_output(sink, capture_fds=False):
        sink.note("supervisor", message)
        current = until_reachable(lambda: _apply_policy(key, message, dag))
        wait_for_alerts()
    return current


def _apply_policy(key: TaskKey, message: str, dag: DAG | None) -> str | None:
    """One attempt at recording the failure (the caller retries it through an outage)."""
    with session_scope() as session:
        row = session.get(TaskInstance, (key.dag_id, key.run_id, key.task_id, key.map_index))
        if row is None or row.try_number != key.try_number:
            return row.state if row is not None else None
        task = dag.task_dict.get(key.task_id) if dag is not None else None
        policy = _policy(session, key, task)
        context = _failure_context(session, row, dag, task)
        state = handle_failure(session, row, policy, message, run_callbacks=True, context=context)
        return state or row.state


def _policy(session: Session, key: TaskKey, task: Any) -> FailurePolicy:
    """From the imported task, else (the DAG file did not load) from the serialized DAG."""
    if task is not None:
        return FailurePolicy.from_task(task)
    from flowsched.serialized import SerializedDAG

    row = session.get(SerializedDagModel, key.dag_id)
    serialized = SerializedDAG.from_dict(row.data) if row is not None else None
    if serialized is None or not serialized.has_task(key.task_id):
        return FailurePolicy()
    return FailurePolicy.from_task(serialized.task_dict[key.task_id])


def _failure_context(
    session: Session, row: TaskInstance, dag: DAG | None, task: Any
) -> dict[str, Any]:
    """The context the task's callbacks get; as much of it as can still be built."""
    ti = RuntimeTaskInstance(row, task)
    minimal = {"dag": dag, "task": task, "ti": ti, "task_instance": ti, "run_id": row.run_id}
    dag_run = session.scalar(
        select(DagRun).where(DagRun.dag_id == row.dag_id, DagRun.run_id == row.run_id)
    )
    if dag is None or dag_run is None:
        return minimal
    try:
        return try_context(dag, task, ti, dag_run, previous_success(session, dag_run))
    except Exception:  # e.g. params the run conf no longer satisfies
        return minimal
