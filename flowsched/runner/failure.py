"""The failure policy: what a failed try becomes, shared by the runner, its supervisor and
the scheduler's zombie handling, so a try fails the same way whoever notices it.

A failed try becomes ``up_for_retry`` (with ``next_try_at``) while it has tries left and
the error allows retrying, else ``failed``. The change is guarded on the try, and the
alerts and callbacks are attached to the session's commit: they fire once, only if the
change won and was committed, and never while the write lock is held.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from flowsched.authoring.retries import retry_delay_for
from flowsched.db.states import UNFINISHED_TI_STATES, TaskInstanceState, state_in, transition_ti
from flowsched.db.tables import DagModel, DagRun, TaskInstance, utcnow
from flowsched.exceptions import TaskFailedNoRetry
from flowsched.executors.base import TaskKey
from flowsched.runner import callbacks
from flowsched.runner.callbacks import Callbacks
from flowsched.runner.history import record_try
from flowsched.runner.logs import log_path

if TYPE_CHECKING:
    from flowsched.notify import TaskEvent

_alert_threads: list[threading.Thread] = []


class TryError(Exception):
    """A try's exception as its process reported it to the supervisor that records it.

    The exception object itself stays in the try's process (where the task's callbacks
    get it): user exceptions do not always survive pickling, and the recorder only needs
    what it writes down.
    """

    def __init__(self, summary: str, details: str, no_retry: bool) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = details
        self.no_retry = no_retry

    def __reduce__(self) -> tuple[type[TryError], tuple[str, str, bool]]:
        return type(self), (self.summary, self.details, self.no_retry)

    @classmethod
    def of(cls, error: BaseException) -> TryError:
        return cls(
            describe(error),
            "".join(traceback.format_exception(error)),
            isinstance(error, TaskFailedNoRetry),
        )


@dataclass(frozen=True)
class FailurePolicy:
    """The task arguments that decide what happens when one of its tries fails."""

    retries: int = 0
    retry_delay: timedelta = timedelta(seconds=300)
    retry_exponential_backoff: bool = False
    max_retry_delay: timedelta | None = None
    email: Sequence[str] = ()
    email_on_failure: bool = True
    email_on_retry: bool = True
    on_failure_callback: Callbacks = field(default=None, compare=False)
    on_retry_callback: Callbacks = field(default=None, compare=False)

    @classmethod
    def from_task(cls, task: Any) -> FailurePolicy:
        """From an operator of an imported DAG, or a ``SerializedTask`` (which has the same
        attributes but no callbacks: those are code, and only the DAG file holds them)."""
        return cls(
            retries=task.retries,
            retry_delay=task.retry_delay,
            retry_exponential_backoff=task.retry_exponential_backoff,
            max_retry_delay=task.max_retry_delay,
            email=tuple(task.email),
            email_on_failure=bool(task.email_on_failure),
            email_on_retry=bool(task.email_on_retry),
            on_failure_callback=getattr(task, "on_failure_callback", None),
            on_retry_callback=getattr(task, "on_retry_callback", None),
        )


def retry_delay(policy: FailurePolicy, try_number: int) -> timedelta:
    """The wait after failed try ``try_number`` (the rule the authoring API documents)."""
    return retry_delay_for(
        policy.retry_delay, policy.retry_exponential_backoff, policy.max_retry_delay, try_number
    )


def may_retry(ti: TaskInstance, policy: FailurePolicy, error: BaseException | str) -> bool:
    """Whether this failed try leaves another one.

    ``max_tries`` is Airflow's column (the task's retries when the TI was created, raised
    when it is cleared); the policy's retries cover a row created before they were known.
    """
    if isinstance(error, TaskFailedNoRetry) or (isinstance(error, TryError) and error.no_retry):
        return False
    return ti.try_number <= max(ti.max_tries or 0, policy.retries)


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

    ``ti`` is read for its key, ``try_number``, ``max_tries`` and ``start_date``. With
    ``run_callbacks`` the policy's callbacks run after the commit, with ``context`` plus
    ``exception``; the scheduler's zombie handling, and a supervisor whose try runs its
    callbacks itself, pass False. ``end_date`` defaults to now.
    """
    key = TaskKey(ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number)
    retry = may_retry(ti, policy, error)
    now = end_date or utcnow()
    state = TaskInstanceState.UP_FOR_RETRY if retry else TaskInstanceState.FAILED
    duration = (now - ti.start_date).total_seconds() if ti.start_date else None
    won = transition_ti(
        session,
        **_where(key),
        expected=[TaskInstanceState.QUEUED, TaskInstanceState.RUNNING],
        new=state,
        try_number=key.try_number,
        pid=ti.pid,
        end_date=now,
        duration=duration,
        next_try_at=now + retry_delay(policy, key.try_number) if retry else None,
    )
    if not won:
        return None
    if state == TaskInstanceState.FAILED:
        stop_run_if_fail_stop(session, key, now)
    record_try(
        session,
        key,
        state=state,
        hostname=ti.hostname,
        pid=ti.pid,
        start_date=ti.start_date,
        end_date=now,
        duration=duration,
        error=describe(error),
    )
    alert = _task_event(session, ti, policy, state, error)
    to_call = policy.on_retry_callback if retry else policy.on_failure_callback
    full_context = {**(context or {}), "exception": error}

    def after_commit(_session: Session) -> None:
        if context is not None and hasattr(context.get("ti"), "state"):
            context["ti"].state = state  # callbacks (and notifiers) read the decided state
        if run_callbacks:
            callbacks.run_callbacks(to_call, full_context, "on_retry" if retry else "on_failure")
        _dispatch(alert)

    event.listen(session, "after_commit", after_commit, once=True)
    return state


_STOPPABLE = [s for s in UNFINISHED_TI_STATES if s != TaskInstanceState.RUNNING]


def stop_run_if_fail_stop(session: Session, key: TaskKey, now: datetime) -> None:
    """A failed task of a ``fail_stop`` DAG stops its run, as in Airflow: the other
    running tasks fail (their supervisors see it at their next heartbeat and stop the
    try) and those not started or waiting to retry are skipped; in the same transaction
    as the failure, whoever records it (the try, its supervisor, a zombie check)."""
    fail_stop = select(DagModel.fail_stop).where(DagModel.dag_id == key.dag_id)
    if not session.scalar(fail_stop):
        return
    others = (
        update(TaskInstance)
        .where(
            TaskInstance.dag_id == key.dag_id,
            TaskInstance.run_id == key.run_id,
            TaskInstance.task_id != key.task_id,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        others.where(TaskInstance.state == TaskInstanceState.RUNNING).values(
            state=TaskInstanceState.FAILED, end_date=now
        )
    )
    session.execute(
        others.where(state_in(TaskInstance.state, _STOPPABLE)).values(
            state=TaskInstanceState.SKIPPED, end_date=now
        )
    )


def describe(error: BaseException | str) -> str:
    """One line for the try history and the log: ``Type: message``."""
    if isinstance(error, TryError):
        return error.summary
    if isinstance(error, BaseException):
        return f"{type(error).__name__}: {error}"
    return error


def _where(key: TaskKey) -> dict[str, Any]:
    return {
        "dag_id": key.dag_id,
        "run_id": key.run_id,
        "task_id": key.task_id,
        "map_index": key.map_index,
    }


def _task_event(
    session: Session,
    ti: TaskInstance,
    policy: FailurePolicy,
    state: str,
    error: BaseException | str,
) -> TaskEvent:
    from flowsched.notify import TaskEvent  # on use: the runner's import stays light

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
        exception=_error_text(error),
        log_path=log_path(ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.try_number),
        recipients=list(policy.email),
        email_on_failure=policy.email_on_failure,
        email_on_retry=policy.email_on_retry,
        map_index=ti.map_index,
    )


def _error_text(error: BaseException | str) -> str:
    if isinstance(error, TryError):
        return error.details
    if isinstance(error, BaseException) and error.__traceback__ is not None:
        return "".join(traceback.format_exception(error))
    return describe(error)


def _dispatch(alert: TaskEvent) -> None:
    from flowsched.notify import dispatch_in_background

    _alert_threads.append(dispatch_in_background(alert))


def wait_for_alerts() -> None:
    """Let alerts started by this process finish (each is bounded by its own timeouts).

    A try's process must call this before ``os._exit``, which would kill them unsent.
    """
    while _alert_threads:
        _alert_threads.pop().join()
