"""Effective priority of each task, from its ``priority_weight`` and ``weight_rule``.

``downstream`` (the default) adds the weights of every task downstream, so the scheduler
starts first what unblocks the most work; ``upstream`` adds those upstream; ``absolute``
keeps the task's own. Reachable sets are kept as bitsets (Python ints) built in one
topological pass, so a 10,000-task DAG costs milliseconds, and a task reachable along
two paths is still counted once.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from flowsched.utils.weight_rule import WeightRule

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG
    from flowsched.authoring.node import DAGNode


def effective_weights(dag: DAG) -> dict[str, int]:
    order = dag.topological_sort()
    index = {task.task_id: i for i, task in enumerate(order)}
    rules = {task.weight_rule for task in order}
    reach = {
        rule: _reachable(order, index, downstream=rule == WeightRule.DOWNSTREAM)
        for rule in rules - {WeightRule.ABSOLUTE}
    }
    masks: dict[int, int] = defaultdict(int)
    for i, task in enumerate(order):
        masks[task.priority_weight] |= 1 << i
    weights = {}
    for i, task in enumerate(order):
        bits = reach[task.weight_rule][i] if task.weight_rule in reach else 0
        extra = sum(weight * (bits & mask).bit_count() for weight, mask in masks.items())
        weights[task.task_id] = task.priority_weight + extra
    return weights


def _reachable(order: list[DAGNode], index: dict[str, int], downstream: bool) -> list[int]:
    reach = [0] * len(order)
    positions = range(len(order) - 1, -1, -1) if downstream else range(len(order))
    for i in positions:
        task = order[i]
        bits = 0
        for other in task.downstream_task_ids if downstream else task.upstream_task_ids:
            j = index[other]
            bits |= reach[j] | (1 << j)
        reach[i] = bits
    return reach
