"""Zombies: running task instances whose worker stopped heartbeating.

A try's own supervisor applies the failure policy when the try's process dies; a zombie
is what is left when the supervisor itself died (a worker killed, a machine lost). The
scheduler then applies the same policy (``db.failure.fail_try``: retry or fail, try
history) and sends the same alert, without user callbacks, which it cannot run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from flowsched.db.failure import FailurePolicy, fail_try
from flowsched.notify.failure_alerts import alert_after_commit
from flowsched.scheduling import claims
from flowsched.scheduling.claims import RunKey
from flowsched.scheduling.dagstore import DagStore
from flowsched.serialized import SerializedTask

log = logging.getLogger(__name__)


def policy_of(task: SerializedTask | None) -> FailurePolicy:
    """The failure policy of a task of the serialized DAG (no retries if it is gone)."""
    return FailurePolicy() if task is None else FailurePolicy.from_task(task)


def fail_zombies(
    session: Session, store: DagStore, now: datetime, threshold: float
) -> list[RunKey]:
    """Apply the failure policy to every try without a heartbeat for ``threshold`` seconds;
    the runs that changed."""
    affected = []
    for ti in claims.stale_running_tis(session, now - timedelta(seconds=threshold)):
        dag = store.get(session, ti.dag_id)
        task = dag.task_dict.get(ti.task_id) if dag else None
        message = (
            f"zombie: no heartbeat from the try's worker for more than {threshold:g} s "
            f"(last at {ti.last_heartbeat_at or ti.start_date})"
        )
        policy = policy_of(task)
        state = fail_try(session, ti, policy, message)
        if state is not None:
            alert_after_commit(session, ti, policy, state, message)
            log.warning(
                "%s.%s run %s try %s: %s -> %s",
                ti.dag_id,
                ti.task_id,
                ti.run_id,
                ti.try_number,
                message,
                state,
            )
            affected.append((ti.dag_id, ti.run_id))
    return affected
