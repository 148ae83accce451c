"""BaseTrigger and TriggerEvent, and how a trigger is stored while its task waits.

flowsched has no triggerer process. A deferred task instance waits in ``up_for_reschedule``
(holding no worker slot) until the trigger's next check is due; a worker then asks the
trigger once, with ``poll()``, whether it has fired. Built-in triggers answer at once;
a custom trigger that only has Airflow's ``async run()`` is run until its first event,
which holds the worker slot while it waits (docs/airflow.md, "Deferrable tasks").
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pendulum

log = logging.getLogger("flowsched.task")


def default_deferrable() -> bool:
    """``[operators] default_deferrable``: what ``deferrable`` means when a task omits it."""
    from flowsched.config import conf

    return conf.operators.default_deferrable


@dataclass(frozen=True)
class TriggerEvent:
    """What a trigger fired with; the resumed method receives it as ``event``."""

    payload: Any = None


class BaseTrigger:
    """Subclasses keep their arguments as attributes and return them from ``serialize``."""

    log = log

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """``(classpath, kwargs)``: how to build this trigger again in another process."""
        raise NotImplementedError(f"{type(self).__name__} must implement serialize()")

    def poll(self) -> TriggerEvent | None:
        """The event if the trigger has fired, else None. By default the trigger's
        ``run()`` is run to its first event."""
        return asyncio.run(_first_event(self.run()))

    def next_check(self, now: datetime) -> datetime:
        """When to poll again after a poll that found nothing."""
        return now

    async def run(self) -> AsyncIterator[TriggerEvent]:
        raise NotImplementedError(f"{type(self).__name__} must implement poll() or run()")
        yield  # pragma: no cover - makes this an async generator, as in Airflow

    def __repr__(self) -> str:
        classpath, kwargs = self.serialize()
        return f"<{classpath} {kwargs}>"


async def _first_event(events: AsyncIterator[TriggerEvent]) -> TriggerEvent | None:
    async for event in events:
        return event
    return None


# --- storage: a trigger as JSON in the task instance's ``deferral`` -------------------------


def dump_trigger(trigger: BaseTrigger) -> dict[str, Any]:
    classpath, kwargs = trigger.serialize()
    return {"classpath": classpath, "kwargs": dump_value(kwargs)}


def load_trigger(data: dict[str, Any]) -> BaseTrigger:
    module_name, _, class_name = data["classpath"].rpartition(".")
    trigger_class = getattr(importlib.import_module(module_name), class_name)
    return trigger_class(**load_value(data["kwargs"]))


def dump_value(value: Any) -> Any:
    """JSON with datetimes and timedeltas kept as tagged values."""
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, timedelta):
        return {"__timedelta__": value.total_seconds()}
    if isinstance(value, dict):
        return {str(key): dump_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [dump_value(item) for item in value]
    return value


def load_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__datetime__"}:
            return pendulum.parse(value["__datetime__"])
        if set(value) == {"__timedelta__"}:
            return timedelta(seconds=value["__timedelta__"])
        return {key: load_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [load_value(item) for item in value]
    return value
