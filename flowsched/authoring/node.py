"""Dependencies between tasks: ``>>``, ``<<``, ``set_upstream``/``set_downstream``.

Edges are stored as task ids on both ends, as in Airflow, so that a task can be resolved
through its DAG and the serialized form is a plain copy. A cycle is refused when the edge
that would close it is added, so the error points at the line that made it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Union

from flowsched.authoring.identifiers import validate_id
from flowsched.authoring.scope import current_dag, current_group
from flowsched.exceptions import DagCycleError, DagDefinitionError

if TYPE_CHECKING:
    import pendulum

    from flowsched.authoring.dag import DAG
    from flowsched.authoring.params import Param
    from flowsched.authoring.taskgroup import TaskGroup
    from flowsched.authoring.xcom_arg import XComArg
    from flowsched.utils.weight_rule import WeightRule

Dependable = Union["DependencyMixin", Sequence["DependencyMixin"]]


class DependencyMixin:
    """Anything that can sit on either side of ``>>``: a task, an XComArg, a TaskGroup."""

    @property
    def roots(self) -> list[DAGNode]:
        raise NotImplementedError

    @property
    def leaves(self) -> list[DAGNode]:
        raise NotImplementedError

    def set_downstream(self, other: Dependable) -> None:
        for item in _as_list(other):
            item.add_upstream_nodes(self.leaves)

    def set_upstream(self, other: Dependable) -> None:
        for item in _as_list(other):
            item.add_downstream_nodes(self.roots)

    def add_upstream_nodes(self, nodes: list[DAGNode]) -> None:
        """Make ``nodes`` upstream of this; an edge Label overrides it to label the edges."""
        link(nodes, self.roots)

    def add_downstream_nodes(self, nodes: list[DAGNode]) -> None:
        link(self.leaves, nodes)

    def __rshift__(self, other: Dependable) -> Dependable:
        self.set_downstream(other)
        return other

    def __lshift__(self, other: Dependable) -> Dependable:
        self.set_upstream(other)
        return other

    def __rrshift__(self, other: Dependable) -> DependencyMixin:
        """``[a, b] >> self``: lists have no ``>>``, so Python asks the right-hand side."""
        self.set_upstream(other)
        return self

    def __rlshift__(self, other: Dependable) -> DependencyMixin:
        self.set_downstream(other)
        return self


def _as_list(other: Dependable) -> list[DependencyMixin]:
    items = list(other) if isinstance(other, list | tuple | set) else [other]
    return [_dependable(item) for item in items]


def _dependable(item: object) -> DependencyMixin:
    if not isinstance(item, DependencyMixin):
        raise TypeError(
            f"Cannot set a dependency on {item!r} ({type(item).__name__}): "
            "expected a task, an XComArg, a TaskGroup or a list of them"
        )
    return item


def _roots_of(other: Dependable) -> list[DAGNode]:
    return [root for item in _as_list(other) for root in item.roots]


def _leaves_of(other: Dependable) -> list[DAGNode]:
    return [leaf for item in _as_list(other) for leaf in item.leaves]


def link(upstream: Iterable[DAGNode], downstream: Iterable[DAGNode]) -> None:
    downstream = list(downstream)
    for up in upstream:
        for down in downstream:
            add_edge(up, down)


def add_edge(up: DAGNode, down: DAGNode) -> None:
    dag = _shared_dag(up, down)
    if down.task_id in up.downstream_task_ids:
        return
    _refuse_cycle(dag, up, down)
    up.downstream_task_ids.add(down.task_id)
    down.upstream_task_ids.add(up.task_id)


def _shared_dag(up: DAGNode, down: DAGNode) -> DAG:
    """Tasks must share a DAG; a task without one joins its partner's, as in Airflow."""
    if up.dag is None and down.dag is None:
        raise DagDefinitionError(
            f"Cannot make {up.task_id!r} upstream of {down.task_id!r}: neither task belongs "
            "to a DAG yet (create them inside `with DAG(...)` or pass dag=...)"
        )
    dag = up.dag or down.dag
    assert dag is not None
    for node in (up, down):
        if node.dag is None:
            node.dag = dag
        elif node.dag is not dag:
            raise DagDefinitionError(
                f"Cannot make {up.task_id!r} upstream of {down.task_id!r}: they belong to "
                f"different DAGs ({up.dag.dag_id!r} and {down.dag.dag_id!r})"  # type: ignore[union-attr]
            )
    return dag


def _refuse_cycle(dag: DAG, up: DAGNode, down: DAGNode) -> None:
    if up is not down and (not up.upstream_task_ids or not down.downstream_task_ids):
        return  # nothing reaches a root, and a leaf reaches nothing: no path can close
    path = _path(dag, down.task_id, up.task_id)
    if path is not None:
        cycle = " -> ".join([*path, down.task_id])
        raise DagCycleError(f"Cycle detected in DAG {dag.dag_id!r}: {cycle}")


def _path(dag: DAG, start: str, goal: str) -> list[str] | None:
    parents: dict[str, str | None] = {start: None}
    stack = [start]
    while stack:
        node = stack.pop()
        if node == goal:
            path = [node]
            while (parent := parents[path[-1]]) is not None:
                path.append(parent)
            return path[::-1]
        for child in dag.task_dict[node].downstream_task_ids:
            if child not in parents:
                parents[child] = node
                stack.append(child)
    return None


def resolve_placement(
    dag: DAG | None, task_group: TaskGroup | None
) -> tuple[DAG | None, TaskGroup | None]:
    """Where a new task lives: explicit arguments first, then the enclosing ``with`` blocks."""
    if task_group is None:
        group = current_group()
        if group is not None and (dag is None or group.dag is dag):
            task_group = group
    if dag is None:
        dag = task_group.dag if task_group is not None else current_dag()
    if task_group is None and dag is not None:
        task_group = dag.task_group
    if task_group is not None and task_group.dag is not dag:
        raise DagDefinitionError(
            f"Task group {task_group.group_id!r} belongs to DAG {task_group.dag.dag_id!r}, "
            f"not to {dag.dag_id if dag else None!r}"
        )
    return dag, task_group


class DAGNode(DependencyMixin):
    """What a DAG holds: a concrete operator or a mapped one. Owns id, placement and edges."""

    is_mapped = False
    # Set by BaseOperator.__init__; a MappedOperator answers them from its partial arguments.
    start_date: pendulum.DateTime | None
    execution_timeout: timedelta | None
    priority_weight: int
    weight_rule: WeightRule
    retries: int
    pool: str
    pool_slots: int
    queue: str

    def _init_node(self, label: str, dag: DAG | None, task_group: TaskGroup | None) -> None:
        validate_id(label, "task_id")
        dag, task_group = resolve_placement(dag, task_group)
        self.task_id = validate_id(task_group.child_id(label) if task_group else label, "task_id")
        self.task_group = task_group
        self.upstream_task_ids: set[str] = set()
        self.downstream_task_ids: set[str] = set()
        self.params: dict[str, Param] = {}
        self._dag: DAG | None = None
        self._pending_dag = dag

    def _attach(self) -> None:
        """Join the DAG chosen at construction, once the task is fully built."""
        from flowsched.authoring.taskgroup import enclosing_mapped_group

        group = enclosing_mapped_group(self.task_group)
        if group is not None and getattr(self, "mapped_group", None) is not group:
            raise DagDefinitionError(
                f"Task {self.task_id!r}: only plain @task calls are supported inside the "
                f"mapped task group {group.group_id!r} (not classic operators nor expand())"
            )
        if self._pending_dag is not None:
            self._pending_dag.add_task(self)
            self._pending_dag = None

    @property
    def dag(self) -> DAG | None:
        return self._dag

    @dag.setter
    def dag(self, dag: DAG) -> None:
        if self._dag is not None and self._dag is not dag:
            raise DagDefinitionError(
                f"Task {self.task_id!r} already belongs to DAG {self._dag.dag_id!r}"
            )
        dag.add_task(self)

    @property
    def operator_name(self) -> str:
        raise NotImplementedError

    def require_dag(self) -> DAG:
        """The task's DAG, for code that runs only once the task is in one (execute, poke)."""
        if self._dag is None:
            raise DagDefinitionError(f"Task {self.task_id!r} does not belong to a DAG")
        return self._dag

    def has_dag(self) -> bool:
        return self._dag is not None

    @property
    def roots(self) -> list[DAGNode]:
        return [self]

    @property
    def leaves(self) -> list[DAGNode]:
        return [self]

    @property
    def output(self) -> XComArg:
        """The XCom ``return_value`` of this task, usable as an argument of other tasks."""
        from flowsched.authoring.xcom_arg import XComArg

        return XComArg(self)

    def get_direct_relative_ids(self, upstream: bool = False) -> set[str]:
        return set(self.upstream_task_ids if upstream else self.downstream_task_ids)

    def get_flat_relative_ids(self, upstream: bool = False) -> set[str]:
        """Every task reachable upstream or downstream (not only the direct neighbours)."""
        dag = self._require_dag()
        seen: set[str] = set()
        stack = list(self.get_direct_relative_ids(upstream))
        while stack:
            task_id = stack.pop()
            if task_id not in seen:
                seen.add(task_id)
                stack.extend(dag.task_dict[task_id].get_direct_relative_ids(upstream))
        return seen

    def get_direct_relatives(self, upstream: bool = False) -> list[DAGNode]:
        dag = self._require_dag()
        return [dag.task_dict[i] for i in sorted(self.get_direct_relative_ids(upstream))]

    def _require_dag(self) -> DAG:
        if self._dag is None:
            raise DagDefinitionError(f"Task {self.task_id!r} does not belong to a DAG")
        return self._dag

    def __repr__(self) -> str:
        return f"<Task({type(self).__name__}): {self.task_id}>"
