"""What a worker does with one queued try, wherever the worker runs: a LocalExecutor
worker process, ``flowsched tasks run`` (and so a Celery worker), the SequentialExecutor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowsched.db import session_scope
from flowsched.db.failure import describe
from flowsched.db.tables import TaskInstance, TaskInstanceState
from flowsched.runner.loader import load_dag
from flowsched.runner.lost_tries import fail_try
from flowsched.runner.supervisor import Report, supervise_try
from flowsched.tries import ExecutorEvent, TaskKey


def run_queued_try(
    key: TaskKey,
    fileloc: str,
    *,
    executor: str,
    report: Report,
    close_in_child: Sequence[Any] = (),
) -> None:
    """Load the try's DAG (cached) and supervise the try, ``report``-ing its end once; a
    DAG file that no longer loads fails the try with the reason, since its code cannot
    run."""
    try:
        dag = load_dag(fileloc, key.dag_id)
    except (Exception, SystemExit) as error:  # user code ran: anything can come out
        message = f"Could not load DAG {key.dag_id!r} from {fileloc}: {describe(error)}"
        report(ExecutorEvent(key, fail_try(key, message), message))
        return
    supervise_try(key, dag, executor=executor, report=report, close_in_child=close_in_child)


def after_worker_death(key: TaskKey, info: str) -> ExecutorEvent:
    """The event for a try whose worker died.

    A try still ``queued`` never started and fails here. A running one died with its
    worker, with nobody left to beat its heartbeat: the scheduler's zombie detection
    fails it, as for any supervisor that vanished.
    """
    with session_scope(readonly=True) as session:
        row = session.get(TaskInstance, (key.dag_id, key.run_id, key.task_id, key.map_index))
        state = row.state if row is not None and row.try_number == key.try_number else None
    if state == TaskInstanceState.QUEUED:
        state = fail_try(key, f"Task was not started: {info}")
    return ExecutorEvent(key, state, info)
