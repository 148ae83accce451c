"""Task order and reachability: one rule for the DAG objects, the serialized DAGs and the UI.

Order is upstream before downstream, and among tasks ready at the same time the one the
DAG file defined first goes first, so the grid, the scheduler's sweep and the parser's
stored order always agree. The standard library's ``graphlib`` does the counting and
finds cycles.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Mapping
from graphlib import CycleError, TopologicalSorter
from typing import Generic, Protocol, TypeVar

from flowsched.exceptions import DagCycleError, TaskNotFound

__all__ = ["CycleError", "TaskLookup", "reachable", "topological_order"]


def topological_order(upstream: Mapping[str, Iterable[str]]) -> list[str]:
    """Task ids upstream-first, ties in the order of ``upstream`` (task id -> its upstream
    ids; ids not in the mapping are ignored). Raises ``graphlib.CycleError`` on a cycle."""
    task_ids = list(upstream)
    position = {task_id: i for i, task_id in enumerate(task_ids)}
    sorter = TopologicalSorter(
        {task_id: [up for up in ups if up in position] for task_id, ups in upstream.items()}
    )
    sorter.prepare()
    ready: list[int] = []
    ordered: list[str] = []
    while sorter.is_active():
        for task_id in sorter.get_ready():
            heapq.heappush(ready, position[task_id])
        task_id = task_ids[heapq.heappop(ready)]
        ordered.append(task_id)
        sorter.done(task_id)
    return ordered


def reachable(edges: Mapping[str, Iterable[str]], start: Iterable[str]) -> set[str]:
    """Every id reachable from ``start`` along ``edges`` (e.g. task id -> its downstream
    ids), not counting ``start`` itself unless a path leads back to it."""
    seen: set[str] = set()
    stack = list(start)
    while stack:
        for other in edges.get(stack.pop(), ()):
            if other not in seen:
                seen.add(other)
                stack.append(other)
    return seen


class GraphNode(Protocol):
    @property
    def task_id(self) -> str: ...

    @property
    def upstream_task_ids(self) -> Collection[str]: ...

    @property
    def downstream_task_ids(self) -> Collection[str]: ...


NodeT = TypeVar("NodeT", bound=GraphNode)


class TaskLookup(Generic[NodeT]):
    """A DAG's task queries, answered alike by the DAG a file defines and by the
    serialized DAG the scheduler and the UI read (``task_dict`` in definition order)."""

    dag_id: str
    task_dict: dict[str, NodeT]

    @property
    def task_ids(self) -> list[str]:
        return list(self.task_dict)

    def has_task(self, task_id: str) -> bool:
        return task_id in self.task_dict

    def get_task(self, task_id: str) -> NodeT:
        try:
            return self.task_dict[task_id]
        except KeyError:
            raise TaskNotFound(f"Task {task_id!r} not found in DAG {self.dag_id!r}") from None

    @property
    def roots(self) -> list[NodeT]:
        return [task for task in self.task_dict.values() if not task.upstream_task_ids]

    @property
    def leaves(self) -> list[NodeT]:
        return [task for task in self.task_dict.values() if not task.downstream_task_ids]

    def topological_sort(self) -> list[NodeT]:
        """Upstream before downstream; among ready tasks, the one defined first goes first."""
        upstream = {task_id: task.upstream_task_ids for task_id, task in self.task_dict.items()}
        try:
            return [self.task_dict[task_id] for task_id in topological_order(upstream)]
        except CycleError:
            raise DagCycleError(f"DAG {self.dag_id!r} has a cycle") from None
