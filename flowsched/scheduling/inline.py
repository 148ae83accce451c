"""One run driven to its end in the calling process: what `flowsched dags test` does.

The same steps as the daemon's passes (``examine``, ``dispatch``), restricted to one run
and without creating runs, so a test run behaves exactly as the scheduler would run it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.states import FINISHED_RUN_STATES
from flowsched.db.tables import DagRun, utcnow
from flowsched.executors.base import BaseExecutor
from flowsched.scheduling import dispatch
from flowsched.scheduling.claims import RunKey, RunRef
from flowsched.scheduling.dagstore import DagStore
from flowsched.scheduling.examine import examine
from flowsched.scheduling.settings import SchedulerSettings

IDLE_WAIT = 1.0


def run_to_end(
    run_key: RunKey, executor: BaseExecutor, on_pass: Callable[[], None] = lambda: None
) -> str:
    """Examine and dispatch until the run ends; its final state. ``on_pass`` runs after
    every pass (e.g. to show progress)."""
    store = DagStore()
    executor.start()
    try:
        while True:
            state, next_due = _one_pass(run_key, executor, store)
            on_pass()
            if state in FINISHED_RUN_STATES:
                return state
            executor.wait_for_events(_timeout(next_due))
    finally:
        executor.end()


def _one_pass(
    run_key: RunKey, executor: BaseExecutor, store: DagStore
) -> tuple[str, datetime | None]:
    now = utcnow()
    with session_scope() as session:
        store.new_pass()
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == run_key[0], DagRun.run_id == run_key[1])
        ).one()
        dag = store.get(session, run.dag_id)
        if dag is None or run.state in FINISHED_RUN_STATES:
            return run.state, None
        result = examine(session, dag, RunRef.of(run), now)
        dispatches = dispatch.queue_scheduled(
            session,
            store,
            executor.free_slots(),
            executor.name,
            now,
            SchedulerSettings.from_conf(),
            only_run=run_key,
        )
        state = result.finished or run.state
    for item in dispatches:
        executor.queue_task(item.key, item.fileloc, queue=item.queue)
    return state, result.next_due


def _timeout(next_due: datetime | None) -> float:
    if next_due is None:
        return IDLE_WAIT
    return max(0.0, min(IDLE_WAIT, (next_due - utcnow()).total_seconds()))
