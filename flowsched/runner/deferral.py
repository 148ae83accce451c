"""Deferrable tasks without a triggerer: a deferral is a reschedule at the trigger's next check.

``BaseOperator.defer`` raises ``TaskDeferred``. The try then ends ``up_for_reschedule``
(its worker slot is free) with ``next_try_at`` at the trigger's next check, and the
trigger, the method to resume in and the deadline are kept in the task instance's
``deferral`` column, for this try number only. The next pass of the same try polls the
trigger once: not fired, it waits again; fired, the task resumes in its method with the
event, as Airflow's triggerer would have resumed it; past the deadline, it resumes in
``__fail__`` (Airflow's "Trigger/execution timeout").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pendulum

from flowsched.exceptions import TaskDeferred
from flowsched.runner.log_capture import TASK_LOGGER
from flowsched.triggers.base import dump_trigger, dump_value, load_trigger, load_value

log = logging.getLogger(TASK_LOGGER)

TIMEOUT_ERROR = "Trigger/execution timeout"


@dataclass(frozen=True)
class Waiting:
    """A deferred try's next check, and the ``deferral`` record to store with it."""

    check_at: datetime
    record: dict[str, Any]


def resumable(record: dict[str, Any] | None, try_number: int) -> dict[str, Any] | None:
    """The stored deferral if it belongs to this try (a new try starts from ``execute``)."""
    if record and record.get("try_number") == try_number:
        return record
    return None


def waiting(deferred: TaskDeferred, task: Any, ti: Any, previous: dict[str, Any] | None) -> Waiting:
    """What to store for a task that deferred. Its deadline is ``timeout`` from the first
    deferral, and never later than the try's start plus ``execution_timeout``."""
    now = pendulum.now("UTC")
    timeout_at = _timeout_at(previous) if previous else _deadline(deferred, task, ti, now)
    check_at = deferred.trigger.next_check(now)
    if timeout_at is not None:
        check_at = min(check_at, timeout_at)
    record = {
        "try_number": ti.try_number,
        "trigger": dump_trigger(deferred.trigger),
        "method": deferred.method_name,
        "kwargs": dump_value(deferred.kwargs or {}),
        "timeout_at": timeout_at.isoformat() if timeout_at else None,
    }
    return Waiting(check_at, record)


@dataclass(frozen=True)
class Resumption:
    """How a deferred task goes on: ``task.resume_execution(method, kwargs, context)``."""

    method: str
    kwargs: dict[str, Any]


def poll(record: dict[str, Any]) -> Resumption:
    """Ask the stored trigger once. Fired: resume in the method with the event; past the
    deadline: resume in ``__fail__``; else raise ``TaskDeferred`` again to go on waiting
    (before the task's own code runs: a check is not an execution, as under Airflow's
    triggerer, so ``pre_execute`` and ``on_execute_callback`` do not run for it)."""
    trigger = load_trigger(record["trigger"])
    kwargs = load_value(record["kwargs"])
    event = trigger.poll()
    if event is not None:
        log.info("Trigger fired: resuming in %s", record["method"])
        return Resumption(record["method"], {**kwargs, "event": event.payload})
    timeout_at = _timeout_at(record)
    if timeout_at is not None and pendulum.now("UTC") >= timeout_at:
        return Resumption("__fail__", {"error": TIMEOUT_ERROR})
    raise TaskDeferred(trigger=trigger, method_name=record["method"], kwargs=kwargs)


def _deadline(deferred: TaskDeferred, task: Any, ti: Any, now: datetime) -> datetime | None:
    candidates = []
    if deferred.timeout is not None:
        candidates.append(now + _as_timedelta(deferred.timeout))
    start = getattr(ti, "start_date", None)
    if task.execution_timeout is not None and start is not None:
        candidates.append(pendulum.instance(start) + task.execution_timeout)
    return min(candidates) if candidates else None


def _as_timedelta(value: timedelta | float) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def _timeout_at(record: dict[str, Any]) -> datetime | None:
    value = record.get("timeout_at")
    return pendulum.instance(datetime.fromisoformat(value)) if value else None
