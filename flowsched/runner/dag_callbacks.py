"""DAG-level ``on_success_callback`` / ``on_failure_callback`` / ``sla_miss_callback``,
run in a child process.

The scheduler never imports user code, so when a run whose DAG has such a callback ends,
it asks ``flowsched.executors.dag_callbacks`` to start
``python -m flowsched.runner.dag_callbacks DAG_ID RUN_ID STATE REASON`` and does not wait
for it. This child imports the DAG file, builds the run's context (plus ``reason``, as in
Airflow) and calls the callbacks; a failing callback is logged to the scheduler's output
and changes nothing.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.states import SLA_MISS, DagRunState
from flowsched.db.tables import DagModel, DagRun

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG

log = logging.getLogger(__name__)


def run(dag_id: str, run_id: str, state: str, reason: str) -> None:
    """Import the DAG file and call the run's DAG-level callbacks for ``state``."""
    from flowsched.authoring.context import context_of_run
    from flowsched.runner.callbacks import run_callbacks
    from flowsched.runner.loader import load_dag

    with session_scope(readonly=True) as session:
        dag_run = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
        ).one()
        session.expunge(dag_run)  # a plain object for the callbacks, after the session ends
        fileloc = session.scalars(select(DagModel.fileloc).where(DagModel.dag_id == dag_id)).one()
    dag = load_dag(fileloc, dag_id)
    context = context_of_run(dag=dag, task=None, dag_run=dag_run)
    context["reason"] = reason
    if state == SLA_MISS:
        _sla_miss_callbacks(dag, run_id)
        return
    kind = "on_success_callback" if state == DagRunState.SUCCESS else "on_failure_callback"
    run_callbacks(dag.callbacks(kind), context, kind.removesuffix("_callback"))


def _sla_miss_callbacks(dag: DAG, run_id: str) -> None:
    """Airflow's signature: ``(dag, task_list, blocking_task_list, slas, blocking_tis)``;
    ``slas`` are the run's ``sla_miss`` rows, ``task_list`` one line per missed task. The
    blocking lists (Airflow's guess at which upstream tasks held them up) are empty."""
    from flowsched.db.tables import SlaMiss

    with session_scope(readonly=True) as session:
        slas = list(
            session.scalars(
                select(SlaMiss).where(SlaMiss.dag_id == dag.dag_id, SlaMiss.run_id == run_id)
            )
        )
        session.expunge_all()
    task_list = "\n".join(f"{sla.task_id} on {sla.logical_date.isoformat()}" for sla in slas)
    for callback in dag.callbacks("sla_miss_callback"):
        name = getattr(callback, "__qualname__", repr(callback))
        try:
            log.info("running sla_miss callback %s", name)
            callback(dag, task_list, "", slas, [])
        except Exception:
            log.exception("sla_miss callback %s failed", name)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    run(*sys.argv[1:5])
