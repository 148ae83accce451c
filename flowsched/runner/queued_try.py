"""What a worker does with one queued try, wherever the worker runs: a LocalExecutor
worker process, ``flowsched tasks run`` (and so a Celery worker), the SequentialExecutor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flowsched.db.failure import describe
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
