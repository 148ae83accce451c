"""What a Celery worker does with a message: supervise the try as a LocalExecutor worker would.

The try goes through ``runner.queued_try.run_queued_try``: the DAG file imported once per
pool process and file version, the try run in a forked child, its heartbeat, its
``execution_timeout`` and its end kept and recorded by this pool process, its log
written under this machine's ``logging.base_log_folder``. Nothing is returned to
Celery: the try's state is in the database, where the executor looks for it.
"""

from __future__ import annotations

import logging
from typing import Any

from flowsched.db import session_scope
from flowsched.db.states import TaskInstanceState, holds_try
from flowsched.executors.celery_message import read_message
from flowsched.runner.queued_try import run_queued_try
from flowsched.tries import ExecutorEvent, TaskKey

logger = logging.getLogger("flowsched.worker")

EXECUTOR_NAME = "celery"


def run_try_message(key: list[Any], fileloc: str, dags_relative: str | None) -> None:
    """The body of the ``flowsched.run_try`` Celery task."""
    task_key, path = read_message(key, fileloc, dags_relative)
    if not _still_queued(task_key):
        # A copy re-sent after the queued timeout, or a try someone else took: the
        # runner's guard would refuse it too, but only after an import and a fork.
        logger.info("%s: not queued for this try any more; message dropped", task_key)
        return
    run_queued_try(task_key, path, executor=EXECUTOR_NAME, report=_log_end)


def _still_queued(key: TaskKey) -> bool:
    with session_scope(readonly=True) as session:
        return holds_try(session, key, [TaskInstanceState.QUEUED])


def _log_end(event: ExecutorEvent) -> None:
    logger.info("%s ended: %s %s", event.key, event.state, event.info)
