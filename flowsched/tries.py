"""The identity of one try, and the report that its process ended.

Shared by the scheduler (which queues tries), the executors (which carry them) and the
runner (which runs them and reports how they ended); it lives below all three so that
none of them has to import another for a name.
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
