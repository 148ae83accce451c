"""Callbacks for DAG authors: ``on_failure_callback=send_webhook_notification(url)``.

A notifier sends exactly what its author asked for, to whom they asked, whatever the
task's ``email_on_*`` flags say: those flags drive the built-in alerts (``dispatch``).
It reads the Airflow-style context defensively, since task, DAG and run callbacks each
pass a different subset of keys, and it never raises into the runner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from flowsched.notify.delivery import (
    Delivery,
    deliver_logging_failures,
    describe,
    email_delivery,
    webhook_delivery,
)
from flowsched.notify.events import EventKind, TaskEvent

logger = logging.getLogger("flowsched.notify")

Callback = Callable[[Mapping[str, Any]], None]

_KIND_BY_STATE: dict[str, EventKind] = {"up_for_retry": "retry", "success": "success"}


def _attr(obj: object, name: str) -> Any:
    return getattr(obj, name, None) if obj is not None else None


def _first(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


def _aware(value: object) -> datetime | None:
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value
    return None


def _exception_text(exc: object) -> str | None:
    if exc is None:
        return None
    if isinstance(exc, BaseException):
        return f"{type(exc).__name__}: {exc}"
    return str(exc)


def _max_tries(task: object, try_number: int) -> int:
    retries = _attr(task, "retries")
    return retries + 1 if isinstance(retries, int) else try_number


def event_from_context(context: Mapping[str, Any]) -> TaskEvent:
    """The event a callback context describes: a try of a task, or (without one) a run."""
    ti = _first(context.get("ti"), context.get("task_instance"))
    task, dag, dag_run = context.get("task"), context.get("dag"), context.get("dag_run")
    task_id = _first(_attr(task, "task_id"), _attr(ti, "task_id"))
    state = _first(_attr(ti, "state"), _attr(dag_run, "state"))
    state = None if state is None else str(state)
    fallback: EventKind = "failure" if task_id is not None else "dag_failure"
    try_number = _first(_attr(ti, "try_number"), 1)
    log_path = _attr(ti, "log_path")
    return TaskEvent(
        kind=_KIND_BY_STATE.get(state or "", fallback),
        dag_id=str(_first(_attr(dag, "dag_id"), _attr(ti, "dag_id"), "unknown")),
        task_id=task_id,
        run_id=str(_first(context.get("run_id"), _attr(ti, "run_id"), "unknown")),
        logical_date=_aware(_first(context.get("logical_date"), _attr(dag_run, "logical_date"))),
        try_number=try_number,
        max_tries=_max_tries(task, try_number),
        state=state,
        exception=_exception_text(context.get("exception")),
        log_path=Path(log_path) if log_path else None,
        map_index=_first(_attr(ti, "map_index"), -1),
    )


def _callback(make: Callable[[TaskEvent], Delivery]) -> Callback:
    def notify(context: Mapping[str, Any]) -> None:
        try:
            event = event_from_context(context)
            delivery = make(event)
        except Exception as exc:
            logger.error("notifier could not prepare its alert: %s", describe(exc))
            return
        deliver_logging_failures(event, [delivery])

    return notify


def send_email_notification(to: str | Sequence[str]) -> Callback:
    """A callback that e-mails the alert for its context to ``to``."""
    recipients = [to] if isinstance(to, str) else list(to)
    return _callback(lambda event: email_delivery(event, recipients))


def send_webhook_notification(url: str) -> Callback:
    """A callback that POSTs the alert for its context to ``url``."""
    return _callback(lambda event: webhook_delivery(event, url))
