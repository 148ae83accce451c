"""A failed try in a process that imported its DAG file: the failure policy
(``flowsched.db.failure``), then the task's callbacks and the alert after the commit.

The callbacks and the alert are attached to the session's commit: they fire once, only if
the change won and was committed, and never while the write lock is held.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from flowsched.db.failure import FailurePolicy, fail_try
from flowsched.db.states import TaskInstanceState
from flowsched.db.tables import TaskInstance
from flowsched.notify.failure_alerts import alert_after_commit
from flowsched.runner import callbacks


def handle_failure(
    session: Session,
    ti: TaskInstance,
    policy: FailurePolicy,
    error: BaseException | str,
    *,
    run_callbacks: bool,
    context: Mapping[str, Any] | None = None,
    end_date: datetime | None = None,
) -> str | None:
    """Fail this try of ``ti``: the new state, or None if the try was no longer current.

    With ``run_callbacks`` the policy's callbacks run after the commit, with ``context``
    plus ``exception``; a supervisor whose try runs its callbacks itself passes False.
    """
    state = fail_try(session, ti, policy, error, end_date=end_date)
    if state is None:
        return None
    retry = state == TaskInstanceState.UP_FOR_RETRY
    to_call = policy.on_retry_callback if retry else policy.on_failure_callback
    full_context = {**(context or {}), "exception": error}

    def after_commit(_session: Session) -> None:
        if context is not None and hasattr(context.get("ti"), "state"):
            context["ti"].state = state  # callbacks (and notifiers) read the decided state
        if run_callbacks:
            callbacks.run_callbacks(to_call, full_context, "on_retry" if retry else "on_failure")

    event.listen(session, "after_commit", after_commit, once=True)
    alert_after_commit(session, ti, policy, state, error)
    return state
