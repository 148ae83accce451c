"""The alert of a failed try (retry or failure e-mail, webhook), sent once the failure is
committed: by the runner, a try's supervisor, and the scheduler's zombie handling alike.

Sending happens in a background thread after the commit, so a slow mail server never holds
the database's write lock, and an alert never announces a change that was rolled back.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from flowsched.db.failure import FailurePolicy, error_text
from flowsched.db.states import TaskInstanceState
from flowsched.db.tables import DagRun, TaskInstance
from flowsched.task_logs import log_path

if TYPE_CHECKING:
    from flowsched.notify.events import TaskEvent

_alert_threads: list[threading.Thread] = []


def alert_after_commit(
    session: Session,
    ti: TaskInstance,
    policy: FailurePolicy,
    state: str,
    error: BaseException | str,
) -> None:
    """Send the alert of this failed try when ``session`` commits (if it does)."""
    alert = _task_event(session, ti, policy, state, error)
    event.listen(session, "after_commit", lambda _session: _dispatch(alert), once=True)


def _task_event(
    session: Session,
    ti: TaskInstance,
    policy: FailurePolicy,
    state: str,
    error: BaseException | str,
) -> TaskEvent:
    from flowsched.notify.events import TaskEvent  # on use: a try's import stays light

    logical_date: datetime | None = session.scalar(
        select(DagRun.logical_date).where(DagRun.dag_id == ti.dag_id, DagRun.run_id == ti.run_id)
    )
    return TaskEvent(
        kind="retry" if state == TaskInstanceState.UP_FOR_RETRY else "failure",
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        run_id=ti.run_id,
        logical_date=logical_date,
        try_number=ti.try_number,
        max_tries=max(ti.max_tries or 0, policy.retries) + 1,
        state=state,
        exception=error_text(error),
        log_path=log_path(ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number),
        recipients=list(policy.email),
        email_on_failure=policy.email_on_failure,
        email_on_retry=policy.email_on_retry,
        map_index=ti.map_index,
    )


def _dispatch(alert: TaskEvent) -> None:
    from flowsched.notify.dispatch import dispatch_in_background

    _alert_threads.append(dispatch_in_background(alert))


def wait_for_alerts() -> None:
    """Let alerts started by this process finish (each is bounded by its own timeouts).

    A try's process must call this before ``os._exit``, which would kill them unsent.
    """
    while _alert_threads:
        _alert_threads.pop().join()
