"""The concrete operator one task instance runs (its own copy, unmapped if need be).

A copy, because rendering templates rewrites the operator's fields in place and the DAG
object may serve further tries in this process (``dags test``, a cached import).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from flowsched.authoring.mapped import expansion_at

if TYPE_CHECKING:
    from flowsched.authoring.baseoperator import BaseOperator
    from flowsched.runner.task_instance import RuntimeTaskInstance


def concrete_task(task: Any, ti: RuntimeTaskInstance) -> BaseOperator:
    """The operator to run for ``ti``; a mapped task gets its element of the expansion."""
    if not task.is_mapped:
        return copy.copy(task)
    inputs: dict[str, list[Any]] = dict(task.literal_inputs)
    for name, arg in task.xcom_inputs.items():
        inputs[name] = _mappable(ti.xcom_pull(task_ids=arg.task_id, key=arg.key), task, arg)
    return task.unmap(expansion_at(inputs, ti.map_index), _same_index_puller(task, ti))


def _same_index_puller(task: Any, ti: RuntimeTaskInstance) -> Any:
    """In a mapped task group, instance i of a task reads instance i of the group's tasks
    it takes values from (Airflow), not the list of all of their instances."""

    def pull(arg: Any) -> Any:
        producer = arg.operator
        if task.mapped_group is None or getattr(producer, "mapped_group", None) is not (
            task.mapped_group
        ):
            return arg
        return ti.xcom_pull(task_ids=arg.task_id, key=arg.key, map_indexes=ti.map_index)

    return pull


def _mappable(value: Any, task: Any, arg: Any) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise TypeError(
            f"Task {task.task_id!r} maps over the XCom {arg.key!r} of {arg.task_id!r}, which "
            f"must be a list, not {type(value).__name__}"
        )
    return list(value)
