"""TaskGroups: named sets of tasks, shown folded in the UI, whose ids prefix their tasks'.

A group is also a dependency endpoint: ``group >> task`` links the group's leaves,
``task >> group`` its roots, both computed when the ``>>`` runs (as in Airflow, so build
the group's inner dependencies first).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from flowsched.authoring import scope
from flowsched.authoring.identifiers import validate_group_label, validate_id
from flowsched.authoring.mapped import (
    KWARGS_INPUT,
    MappedArgument,
    checked_inputs,
    literal_kwargs,
)
from flowsched.authoring.node import DAGNode, DependencyMixin
from flowsched.exceptions import DagDefinitionError

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG


class TaskGroup(DependencyMixin):
    """``with TaskGroup("extract") as tg:`` (or ``@task_group``) around the tasks it holds."""

    def __init__(
        self,
        group_id: str,
        prefix_group_id: bool = True,
        parent_group: TaskGroup | None = None,
        dag: DAG | None = None,
        default_args: dict[str, Any] | None = None,
        tooltip: str = "",
        ui_color: str = "CornflowerBlue",
        ui_fgcolor: str = "#000",
        add_suffix_on_collision: bool = False,
    ) -> None:
        validate_group_label(group_id)
        parent = _parent_group(parent_group, dag, group_id)
        self.dag: DAG = parent.dag
        self.parent_group: TaskGroup | None = parent
        self.prefix_group_id = prefix_group_id
        self.default_args = dict(default_args or {})
        self.tooltip = tooltip
        self.ui_color = ui_color
        self.ui_fgcolor = ui_fgcolor
        self.children: dict[str, DAGNode | TaskGroup] = {}
        group_id = validate_id(parent.child_id(group_id), "group_id")
        if add_suffix_on_collision:
            group_id = self.dag.unique_node_id(group_id)
        self.group_id: str | None = group_id
        self.dag.add_task_group(self)
        parent.children[group_id] = self

    @classmethod
    def root(cls, dag: DAG) -> TaskGroup:
        """The unnamed group every DAG has; top-level tasks are its children."""
        group = cls.__new__(cls)
        group.dag = dag
        group.parent_group = None
        group.group_id = None
        group.prefix_group_id = True
        group.default_args = {}
        group.tooltip = ""
        group.ui_color = "CornflowerBlue"
        group.ui_fgcolor = "#000"
        group.children = {}
        return group

    def child_id(self, label: str) -> str:
        if self.prefix_group_id and self.group_id:
            return f"{self.group_id}.{label}"
        return label

    def merged_default_args(self) -> dict[str, Any]:
        """Outer groups' default_args, overridden by inner ones."""
        outer = self.parent_group.merged_default_args() if self.parent_group else {}
        return {**outer, **self.default_args}

    def add(self, node: DAGNode) -> None:
        self.children[node.task_id] = node

    def __iter__(self) -> Iterator[DAGNode]:
        """Every task of this group and of its nested groups."""
        for child in self.children.values():
            if isinstance(child, TaskGroup):
                yield from child
            else:
                yield child

    @property
    def roots(self) -> list[DAGNode]:
        tasks = list(self)
        ids = {task.task_id for task in tasks}
        return [task for task in tasks if task.upstream_task_ids.isdisjoint(ids)]

    @property
    def leaves(self) -> list[DAGNode]:
        tasks = list(self)
        ids = {task.task_id for task in tasks}
        return [task for task in tasks if task.downstream_task_ids.isdisjoint(ids)]

    def __enter__(self) -> TaskGroup:
        scope.push_group(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        scope.pop_group()

    def __repr__(self) -> str:
        return f"<TaskGroup: {self.group_id}>"


class MappedTaskGroup(TaskGroup):
    """A ``@task_group`` called with ``.expand(...)``: each of its tasks has one task
    instance per element of ``expand_input`` (the same map index across the group)."""

    def __init__(self, expand_input: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.expand_input = expand_input


def enclosing_mapped_group(group: TaskGroup | None) -> MappedTaskGroup | None:
    """The innermost mapped task group ``group`` is (or is nested in), if any."""
    while group is not None and not isinstance(group, MappedTaskGroup):
        group = group.parent_group
    return group


def _parent_group(parent: TaskGroup | None, dag: DAG | None, group_id: str) -> TaskGroup:
    if parent is not None:
        return parent
    current = scope.current_group()
    if current is not None and (dag is None or current.dag is dag):
        return current
    dag = dag or scope.current_dag()
    if dag is None:
        raise DagDefinitionError(
            f"TaskGroup {group_id!r} must be created inside a DAG (`with DAG(...)`) or be "
            "given dag=..."
        )
    return dag.task_group


def task_group(python_callable: Callable[..., Any] | None = None, **group_kwargs: Any) -> Any:
    """``@task_group`` (or ``@task_group(group_id=..., tooltip=...)``) on a function that
    creates tasks: calling it makes a group (ids suffixed ``__1``, ``__2`` on re-use) and
    returns what the function returns, or the group if it returns nothing."""

    def wrap(function: Callable[..., Any]) -> _TaskGroupFactory:
        return _TaskGroupFactory(function, group_kwargs)

    return wrap(python_callable) if python_callable is not None else wrap


class _TaskGroupFactory:
    def __init__(self, function: Callable[..., Any], group_kwargs: dict[str, Any]) -> None:
        self.function = function
        self.group_kwargs = group_kwargs
        functools.update_wrapper(self, function)

    def override(self, **group_kwargs: Any) -> _TaskGroupFactory:
        return _TaskGroupFactory(self.function, {**self.group_kwargs, **group_kwargs})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with TaskGroup(**self._options()) as group:
            result = self.function(*args, **kwargs)
        return group if result is None else result

    def partial(self, **kwargs: Any) -> _TaskGroupPartial:
        return _TaskGroupPartial(self, kwargs)

    def expand(self, **mapped: Any) -> Any:
        """One instance of every task of the group per element (``expand(x=[1, 2])`` or
        over an upstream task's list); the function receives a MappedArgument per name."""
        return _TaskGroupPartial(self, {}).expand(**mapped)

    def expand_kwargs(self, kwargs_list: Any) -> Any:
        return _TaskGroupPartial(self, {}).expand_kwargs(kwargs_list)

    def _options(self) -> dict[str, Any]:
        return {
            "group_id": self.function.__name__,
            "tooltip": (self.function.__doc__ or "").strip(),
            "add_suffix_on_collision": True,
            **self.group_kwargs,
        }


class _TaskGroupPartial:
    def __init__(self, factory: _TaskGroupFactory, fixed: dict[str, Any]) -> None:
        self.factory = factory
        self.fixed = fixed

    def expand(self, **mapped: Any) -> Any:
        name = self.factory.function.__name__
        overlap = sorted(set(mapped) & set(self.fixed))
        if overlap:
            raise TypeError(
                f"Task group {name!r}: argument(s) {', '.join(map(repr, overlap))} given to "
                "both partial() and expand()"
            )
        return self._grouped(checked_inputs(mapped, f"Task group {name!r}"), list(mapped))

    def expand_kwargs(self, kwargs_list: Any) -> Any:
        """One pass through the group per dict of the function's arguments (a list, or an
        upstream task's list of dicts); arguments neither given nor fixed are None."""
        literal_kwargs(kwargs_list, self.factory.function.__name__)
        names = [
            n for n in inspect.signature(self.factory.function).parameters if n not in self.fixed
        ]
        return self._grouped({KWARGS_INPUT: kwargs_list}, names)

    def _grouped(self, expand_input: dict[str, Any], names: list[str]) -> Any:
        arguments = {key: MappedArgument(key) for key in names}
        with MappedTaskGroup(expand_input, **self.factory._options()) as group:
            result = self.factory.function(**self.fixed, **arguments)
        return group if result is None else result
