"""Ending runs: success or failure from the leaves, dagrun_timeout, callbacks, alerts.

A run ends when none of its task instances can change any more. It succeeded when every
leaf instance succeeded or was skipped (the trigger rules have already turned what a
failure means into the leaves' states), and failed otherwise. DAG-level callbacks are
user code, which the scheduler never imports: they run in a child process started after
the commit (see ``executors/dag_callbacks.py``). The failure alert goes out in the background.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from functools import partial

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from flowsched.db import rows_changed
from flowsched.db.bulk import TIKey, transition_many
from flowsched.db.states import (
    UNFINISHED_TI_STATES,
    DagRunState,
    TaskInstanceState,
    transition_run,
)
from flowsched.db.tables import AuditLog, DagModel, DagRun
from flowsched.db.user import SCHEDULER_ACTOR
from flowsched.executors import dag_callbacks
from flowsched.scheduling.claims import RunRef
from flowsched.serialized import SerializedDAG

log = logging.getLogger(__name__)

LEAF_OK = frozenset({TaskInstanceState.SUCCESS, TaskInstanceState.SKIPPED})


def outcome(dag: SerializedDAG, states: Mapping[TIKey, str | None]) -> DagRunState | None:
    """The state the run ends in, or None while some instance may still change."""
    if any(state in UNFINISHED_TI_STATES for state in states.values()):
        return None
    leaves = {task.task_id for task in dag.leaves}
    leaf_states = [
        state
        for (task_id, _), state in states.items()
        if task_id in leaves and state != TaskInstanceState.REMOVED
    ]
    return DagRunState.SUCCESS if all(s in LEAF_OK for s in leaf_states) else DagRunState.FAILED


def timed_out(dag: SerializedDAG, run: RunRef, now: datetime) -> bool:
    return bool(dag.dagrun_timeout and run.start_date and now - run.start_date > dag.dagrun_timeout)


def time_out(
    session: Session,
    dag: SerializedDAG,
    run: RunRef,
    states: Mapping[TIKey, str | None],
    now: datetime,
) -> bool:
    """Fail a run past its dagrun_timeout; what had not finished is skipped, as in Airflow.

    A try still running then finds its instance skipped: its final guarded update loses,
    so its result is dropped (the scheduler does not kill the process itself).
    """
    unfinished = [key for key, state in states.items() if state in UNFINISHED_TI_STATES]
    transition_many(
        session,
        run.dag_id,
        run.run_id,
        unfinished,
        expected=UNFINISHED_TI_STATES,
        new=TaskInstanceState.SKIPPED,
        end_date=now,
    )
    return finish(session, dag, run, DagRunState.FAILED, now, reason="timed out")


def finish(
    session: Session,
    dag: SerializedDAG,
    run: RunRef,
    state: DagRunState,
    now: datetime,
    *,
    reason: str,
) -> bool:
    """running -> success | failed (guarded); callbacks and the alert follow the commit."""
    if not transition_run(
        session,
        dag_id=run.dag_id,
        run_id=run.run_id,
        expected=[DagRunState.RUNNING],
        new=state,
        end_date=now,
    ):
        return False
    log.info("Run %s of %s finished: %s (%s)", run.run_id, run.dag_id, state, reason)
    if state == DagRunState.FAILED:
        pause_after_consecutive_failures(session, dag)
    callback = (
        dag.has_on_success_callback if state == DagRunState.SUCCESS else dag.has_on_failure_callback
    )
    if callback or state == DagRunState.FAILED:
        announce = partial(
            _announce, run.dag_id, run.run_id, run.logical_date, state, reason, callback
        )
        event.listen(session, "after_commit", announce, once=True)
    return True


def pause_after_consecutive_failures(session: Session, dag: SerializedDAG) -> bool:
    """Pause the DAG when its last ``max_consecutive_failed_dag_runs`` runs (by logical
    date) all failed, as Airflow does; the audit log says the scheduler did it and why."""
    limit = dag.max_consecutive_failed_dag_runs
    if limit <= 0:
        return False
    latest = session.scalars(
        select(DagRun.state)
        .where(DagRun.dag_id == dag.dag_id)
        .order_by(DagRun.logical_date.desc())
        .limit(limit)
    ).all()
    if len(latest) < limit or any(state != DagRunState.FAILED for state in latest):
        return False
    paused = rows_changed(
        session,
        update(DagModel)
        .where(DagModel.dag_id == dag.dag_id, DagModel.is_paused.is_(False))
        .values(is_paused=True)
        .execution_options(synchronize_session=False),
    )
    if paused != 1:
        return False
    reason = f"its last {limit} runs failed (max_consecutive_failed_dag_runs={limit})"
    log.warning("Pausing DAG %s: %s", dag.dag_id, reason)
    session.add(
        AuditLog(
            user=SCHEDULER_ACTOR,
            event="pause",  # the name flowsched.operations gives a pause
            dag_id=dag.dag_id,
            extra=json.dumps({"is_paused": True, "reason": reason}),
        )
    )
    return True


def _announce(
    dag_id: str,
    run_id: str,
    logical_date: datetime,
    state: DagRunState,
    reason: str,
    callback: bool,
    _session: Session,
) -> None:
    """After the commit: the DAG's callback (in a child process) and the failure alert."""
    from flowsched.notify import TaskEvent, dispatch_in_background

    if callback:
        dag_callbacks.start(dag_id, run_id, state, reason)
    if state == DagRunState.FAILED:
        alert = TaskEvent(
            kind="dag_failure",
            dag_id=dag_id,
            task_id=None,
            run_id=run_id,
            logical_date=logical_date,
            state=DagRunState.FAILED,
            exception=f"run failed: {reason}",
        )
        dispatch_in_background(alert)
