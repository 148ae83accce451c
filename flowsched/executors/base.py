"""What the scheduler sees of an executor: keys of tries in, events of ended tries out.

The scheduler owns state transitions up to ``queued``; the runner owns them from
``running`` on. An executor only carries a try from one side to the other and reports
when its process has ended, so the scheduler can react at once instead of polling.
"""

from __future__ import annotations

from flowsched.tries import ExecutorEvent, TaskKey


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
