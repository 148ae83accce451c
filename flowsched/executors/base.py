"""What the scheduler sees of an executor: keys of tries in, events of ended tries out.

The scheduler owns state transitions up to ``queued``; the runner owns them from
``running`` on. An executor only carries a try from one side to the other and reports
when its process has ended, so the scheduler can react at once instead of polling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class TaskKey(NamedTuple):
    """One try of one task instance."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int

    def __str__(self) -> str:
        index = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"{self.dag_id}.{self.task_id}{index} run {self.run_id} try {self.try_number}"


@dataclass
class ExecutorEvent:
    """A try's process has ended (or could not start)."""

    key: TaskKey
    state: str | None  # the TI state the try ended in, as the runner or supervisor set it
    info: str = ""  # e.g. "exit code -9", "killed after execution_timeout 5s"
    # the executor lost the try (its worker died, it could not start): the scheduler
    # settles it from the database, as a platform failure (SPEC §6), not the task's
    lost: bool = False


class BaseExecutor:
    """The interface every executor implements; see docs/architecture.md."""

    name: str = "base"

    def start(self) -> None:
        raise NotImplementedError

    def queue_task(self, key: TaskKey, fileloc: str, *, queue: str = "default") -> None:
        raise NotImplementedError

    def wait_for_events(self, timeout: float) -> list[ExecutorEvent]:
        """Events of ended tries; blocks at most ``timeout`` s, returns at the first event."""
        raise NotImplementedError

    def free_slots(self) -> int:
        raise NotImplementedError

    def end(self) -> None:
        """Let running tries finish, then stop."""
        raise NotImplementedError

    def terminate(self) -> None:
        """Stop now, killing running tries."""
        raise NotImplementedError
