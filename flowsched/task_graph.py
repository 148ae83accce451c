"""Task order and reachability: one rule for the DAG objects, the serialized DAGs and the UI.

Order is upstream before downstream, and among tasks ready at the same time the one the
DAG file defined first goes first, so the grid, the scheduler's sweep and the parser's
stored order always agree. The standard library's ``graphlib`` does the counting and
finds cycles.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from graphlib import CycleError, TopologicalSorter

__all__ = ["CycleError", "reachable", "topological_order"]


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
