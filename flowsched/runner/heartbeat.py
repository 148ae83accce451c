"""The running try's heartbeat: proof of life for the scheduler's zombie detection.

The beat is a guarded UPDATE (state running, same try): when it stops matching, someone
else (a user marking the task, a scheduler declaring it a zombie) has taken the task
instance away, and the try must stop rather than keep working for nobody.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import update

from flowsched.config import conf
from flowsched.db import session_scope
from flowsched.executors.base import TaskKey
from flowsched.models import TaskInstance, TaskInstanceState, utcnow

logger = logging.getLogger("flowsched.task")


def beat(key: TaskKey) -> bool:
    """Record a heartbeat; False if the TI is no longer running this try."""
    statement = (
        update(TaskInstance)
        .where(
            TaskInstance.dag_id == key.dag_id,
            TaskInstance.run_id == key.run_id,
            TaskInstance.task_id == key.task_id,
            TaskInstance.map_index == key.map_index,
            TaskInstance.try_number == key.try_number,
            TaskInstance.state == TaskInstanceState.RUNNING,
        )
        .values(last_heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    with session_scope() as session:
        return session.execute(statement).rowcount == 1


class Heartbeat(threading.Thread):
    """Beats every ``[scheduler] task_heartbeat_interval`` until stopped.

    ``on_lost`` is called once if the TI leaves this try's ``running`` state while the
    try still runs.
    """

    def __init__(self, key: TaskKey, on_lost: Callable[[], None]) -> None:
        super().__init__(name="flowsched-heartbeat", daemon=True)
        self.key = key
        self.on_lost = on_lost
        self.interval = conf.getfloat("scheduler", "task_heartbeat_interval")
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                alive = beat(self.key)
            except Exception as exc:  # a busy DB must not kill the try; the next beat retries
                logger.warning("heartbeat failed: %s", exc)
                continue
            if not alive and not self._stop_event.is_set():
                logger.error("task instance state changed externally; stopping this try")
                self.on_lost()
                return

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
