"""Reading the serialized DAG's task list: order, groups and downstream closures."""

from __future__ import annotations

from collections import deque
from typing import Any

Task = dict[str, Any]


def tasks_in_order(structure: dict[str, Any]) -> list[Task]:
    """Tasks upstream-first (Kahn's algorithm), ties kept in the order the DAG file gave."""
    tasks = structure.get("tasks", [])
    position = {task["task_id"]: i for i, task in enumerate(tasks)}
    by_id = {task["task_id"]: task for task in tasks}
    waiting = {task["task_id"]: len(_known(task["upstream"], by_id)) for task in tasks}
    ready = deque(task_id for task_id, count in waiting.items() if count == 0)
    ordered: list[Task] = []
    while ready:
        task_id = ready.popleft()
        ordered.append(by_id[task_id])
        released = []
        for child in _known(by_id[task_id]["downstream"], by_id):
            waiting[child] -= 1
            if waiting[child] == 0:
                released.append(child)
        ready.extend(sorted(released, key=position.__getitem__))
    return ordered


def _known(task_ids: list[str], by_id: dict[str, Task]) -> list[str]:
    return [task_id for task_id in task_ids if task_id in by_id]


def task_ids(structure: dict[str, Any]) -> set[str]:
    return {task["task_id"] for task in structure.get("tasks", [])}


def find_task(structure: dict[str, Any], task_id: str) -> Task | None:
    return next((t for t in structure.get("tasks", []) if t["task_id"] == task_id), None)


def with_downstream(structure: dict[str, Any], roots: set[str]) -> set[str]:
    """The roots and every task reachable downstream of them."""
    by_id = {task["task_id"]: task for task in structure.get("tasks", [])}
    seen = set(roots)
    queue = deque(roots)
    while queue:
        for child in by_id.get(queue.popleft(), {}).get("downstream", []):
            if child not in seen:
                seen.add(child)
                queue.append(child)
    return seen
