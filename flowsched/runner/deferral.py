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

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pendulum

from flowsched.exceptions import TaskDeferred
from flowsched.triggers.base import dump_trigger, dump_value, load_trigger, load_value

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


def resume(task: Any, context: dict[str, Any], record: dict[str, Any]) -> Any:
    """Poll the stored trigger once; resume the task if it fired (or timed out), else
    raise ``TaskDeferred`` again to go on waiting."""
    trigger = load_trigger(record["trigger"])
    kwargs = load_value(record["kwargs"])
    event = trigger.poll()
    if event is not None:
        task.log.info("Trigger fired: resuming in %s", record["method"])
        return task.resume_execution(record["method"], {**kwargs, "event": event.payload}, context)
    timeout_at = _timeout_at(record)
    if timeout_at is not None and pendulum.now("UTC") >= timeout_at:
        return task.resume_execution("__fail__", {"error": TIMEOUT_ERROR}, context)
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
    return pendulum.parse(value) if value else None
