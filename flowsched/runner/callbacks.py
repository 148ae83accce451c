"""Task callbacks (on_success / on_failure / on_retry): run with the context, never fatal.

A callback is the author's code reacting to an outcome that is already decided and
recorded, so its failure is logged in the try's log and changes nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flowsched.runner.log_capture import TASK_LOGGER

logger = logging.getLogger(TASK_LOGGER)

Callback = Callable[[Mapping[str, Any]], Any]
Callbacks = Callback | Sequence[Callback] | None


def _as_list(callbacks: Callbacks) -> list[Callback]:
    """Airflow accepts one callable or a list of them."""
    if callbacks is None:
        return []
    if callable(callbacks):
        return [callbacks]
    return list(callbacks)


def run_callbacks(callbacks: Callbacks, context: Mapping[str, Any], kind: str) -> None:
    for callback in _as_list(callbacks):
        name = getattr(callback, "__qualname__", repr(callback))
        try:
            logger.info("running %s callback %s", kind, name)
            callback(context)
        except Exception:
            logger.exception("%s callback %s failed (the task's state stands)", kind, name)
