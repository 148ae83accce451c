"""SequentialExecutor: one try at a time, supervised from the calling process.

For debugging and ``dags test``: no worker processes, so breakpoints and prints in the
scheduler's process behave plainly, yet each try still runs in a forked child, so a
crashing task cannot take the caller down.
"""

from __future__ import annotations

import time
from collections import deque

from flowsched.executors.base import BaseExecutor
from flowsched.runner.queued_try import run_queued_try
from flowsched.tries import ExecutorEvent, TaskKey


class SequentialExecutor(BaseExecutor):
    name = "sequential"

    def __init__(self) -> None:
        self._queued: deque[tuple[TaskKey, str]] = deque()

    def start(self) -> None:
        """Nothing to start: tries run in ``wait_for_events``."""

    def queue_task(self, key: TaskKey, fileloc: str, *, queue: str = "default") -> None:
        self._queued.append((key, fileloc))

    def free_slots(self) -> int:
        return 0 if self._queued else 1

    def wait_for_events(self, timeout: float) -> list[ExecutorEvent]:
        """Run the next queued try to its end (however long that takes) and report it;
        with nothing queued, nothing can happen, so wait out the timeout."""
        if not self._queued:
            time.sleep(timeout)
            return []
        events: list[ExecutorEvent] = []
        key, fileloc = self._queued.popleft()
        run_queued_try(key, fileloc, executor=self.name, report=events.append)
        return events

    def end(self) -> None:
        while self._queued:
            self.wait_for_events(0)

    def terminate(self) -> None:
        self._queued.clear()
