"""The failure policy: what a failed try becomes, next to the state transitions it uses.

The runner, a try's supervisor and the scheduler's zombie handling all fail tries through
``fail_try``, so a try fails the same way whoever notices it. A failed try becomes
``up_for_retry`` (with ``next_try_at``) while it has tries left and the error allows
retrying, else ``failed``; the change is guarded on the try and recorded in its history.
What follows a failure (the task's callbacks, the alert) is the caller's: see
``flowsched.runner.failure`` and ``flowsched.notify.failure_alerts``.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from flowsched.db.history import record_ended_try
from flowsched.db.states import UNFINISHED_TI_STATES, TaskInstanceState, state_in, transition_ti
from flowsched.db.tables import DagModel, SerializedDagModel, TaskInstance, utcnow
from flowsched.exceptions import TaskFailedNoRetry
from flowsched.task_graph import reachable

MAX_BACKOFF = timedelta(hours=24)


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
    """The task arguments that decide what happens when one of its tries fails.

    The callbacks are the DAG file's callables (``runner.callbacks.Callbacks``); only a
    process that imported the DAG file has them.
    """

    retries: int = 0
    retry_delay: timedelta = timedelta(seconds=300)
    retry_exponential_backoff: bool = False
    max_retry_delay: timedelta | None = None
    email: Sequence[str] = ()
    email_on_failure: bool = True
    email_on_retry: bool = True
    on_failure_callback: Any = field(default=None, compare=False)
    on_retry_callback: Any = field(default=None, compare=False)

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


def retry_delay_for(
    retry_delay: timedelta,
    exponential_backoff: bool,
    max_retry_delay: timedelta | None,
    try_number: int,
) -> timedelta:
    """Delay after try ``try_number`` failed: fixed, or doubling per try with backoff.

    As in Airflow, ``max_retry_delay`` caps only the exponential backoff, which is also
    capped at 24 hours so a high try number cannot overflow.
    """
    if not exponential_backoff:
        return retry_delay
    cap = min(max_retry_delay or MAX_BACKOFF, MAX_BACKOFF)
    seconds = retry_delay.total_seconds() * 2 ** min(max(try_number - 1, 0), 40)
    return min(timedelta(seconds=seconds), cap)


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


def fail_try(
    session: Session,
    ti: TaskInstance,
    policy: FailurePolicy,
    error: BaseException | str,
    *,
    end_date: datetime | None = None,
) -> str | None:
    """Fail this try of ``ti``: the new state, or None if the try was no longer current.

    ``ti`` is read for its key, ``try_number``, ``max_tries`` and ``start_date``;
    ``end_date`` defaults to now.
    """
    key = ti.key
    retry = may_retry(ti, policy, error)
    now = end_date or utcnow()
    state = TaskInstanceState.UP_FOR_RETRY if retry else TaskInstanceState.FAILED
    duration = (now - ti.start_date).total_seconds() if ti.start_date else None
    won = transition_ti(
        session,
        **key._asdict(),  # try_number included: the change is guarded on this try
        expected=[TaskInstanceState.QUEUED, TaskInstanceState.RUNNING],
        new=state,
        pid=ti.pid,
        end_date=now,
        duration=duration,
        next_try_at=now + retry_delay(policy, key.try_number) if retry else None,
    )
    if not won:
        return None
    if state == TaskInstanceState.FAILED:
        stop_run_if_fail_stop(session, ti.dag_id, ti.run_id, ti.task_id, now)
    record_ended_try(session, ti, state=state, end_date=now, error=describe(error))
    return state


_STOPPABLE = [s for s in UNFINISHED_TI_STATES if s != TaskInstanceState.RUNNING]


def stop_run_if_fail_stop(
    session: Session, dag_id: str, run_id: str, failed_task_id: str, now: datetime
) -> None:
    """A failed task of a ``fail_stop`` DAG stops its run, as in Airflow: the other
    running tasks fail (their supervisors see it at their next heartbeat and stop the
    try) and those not started or waiting to retry are skipped; in the same transaction
    as the failure, whoever records it (the try, its supervisor, a zombie check).

    Unlike Airflow 2.10, the failed task's downstream tasks become ``upstream_failed``
    (what their all_success rule makes of the failure) rather than skipped: skipped leaves
    would let the run end as a success, and the failure would not count towards
    ``max_consecutive_failed_dag_runs``."""
    fail_stop = select(DagModel.fail_stop).where(DagModel.dag_id == dag_id)
    if not session.scalar(fail_stop):
        return
    others = (
        update(TaskInstance)
        .where(
            TaskInstance.dag_id == dag_id,
            TaskInstance.run_id == run_id,
            TaskInstance.task_id != failed_task_id,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        others.where(TaskInstance.state == TaskInstanceState.RUNNING).values(
            state=TaskInstanceState.FAILED, end_date=now
        )
    )
    downstream = sorted(_downstream_of(session, dag_id, failed_task_id))
    session.execute(
        others.where(
            state_in(TaskInstance.state, _STOPPABLE), TaskInstance.task_id.in_(downstream)
        ).values(state=TaskInstanceState.UPSTREAM_FAILED, end_date=now)
    )
    session.execute(
        others.where(state_in(TaskInstance.state, _STOPPABLE)).values(
            state=TaskInstanceState.SKIPPED, end_date=now
        )
    )


def _downstream_of(session: Session, dag_id: str, task_id: str) -> set[str]:
    """Every task below ``task_id``, from the stored structure."""
    data = session.scalar(
        select(SerializedDagModel.data).where(SerializedDagModel.dag_id == dag_id)
    )
    edges = {task["task_id"]: task["downstream"] for task in (data or {}).get("tasks", [])}
    return reachable(edges, [task_id])


def describe(error: BaseException | str) -> str:
    """One line for the try history and the log: ``Type: message``."""
    if isinstance(error, TryError):
        return error.summary
    if isinstance(error, BaseException):
        return f"{type(error).__name__}: {error}"
    return error


def error_text(error: BaseException | str) -> str:
    """The full text of the error for an alert: its traceback when there is one."""
    if isinstance(error, TryError):
        return error.details
    if isinstance(error, BaseException) and error.__traceback__ is not None:
        return "".join(traceback.format_exception(error))
    return describe(error)
