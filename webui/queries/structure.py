"""Reading the serialized DAG's task list (the JSON the pages render) in the engine's order.

The order comes from ``flowsched.task_graph``, the rule the DAG objects, the
parser and ``flowsched.serialized`` use, so the grid never disagrees with the scheduler.
"""

from __future__ import annotations

from typing import Any

from flowsched.task_graph import topological_order

Task = dict[str, Any]


def tasks_in_order(structure: dict[str, Any]) -> list[Task]:
    """Tasks upstream-first, ties kept in the order the DAG file gave."""
    by_id = {task["task_id"]: task for task in structure.get("tasks", [])}
    upstream = {task_id: task["upstream"] for task_id, task in by_id.items()}
    return [by_id[task_id] for task_id in topological_order(upstream)]


def find_task(structure: dict[str, Any], task_id: str) -> Task | None:
    return next((t for t in structure.get("tasks", []) if t["task_id"] == task_id), None)
