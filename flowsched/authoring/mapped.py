"""Dynamic task mapping: ``Op.partial(...).expand(arg=[...])`` and ``@task`` ``.expand``.

A MappedOperator is one node of the DAG; the scheduler makes one task instance per
element of the product of its expanded inputs, and the runner turns one map index into a
concrete operator with ``unmap``. The order of that product is fixed here, in
``expansion_at``, for both of them: argument names sorted, the last one varying fastest.

``expand_kwargs(list_of_dicts)`` is the same machinery with one input, ``KWARGS_INPUT``,
whose elements are whole argument dicts: one task instance per dict.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flowsched.authoring import scope
from flowsched.authoring.default_args import accepted_args, apply_default_args
from flowsched.authoring.node import DAGNode
from flowsched.authoring.xcom_arg import XComArg, iter_xcom_args

if TYPE_CHECKING:
    from flowsched.authoring.baseoperator import BaseOperator

KWARGS_INPUT = "**kwargs"
"""The input name of ``expand_kwargs``: each of its elements is a dict of arguments."""


class MappedArgument:
    """What a mapped task group's function receives for an expanded argument: each task
    instance of the group's tasks gets its own element in its place."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"MappedArgument({self.name!r})"


def group_substituted(value: Any, expanded: Mapping[str, Any], pull: Any) -> Any:
    """``value`` with each MappedArgument replaced by its element of ``expanded`` and, when
    ``pull`` is given, each XComArg by ``pull(arg)`` (the value of the same map index for a
    task of the same mapped group, else the XComArg itself); containers keep their types."""
    if isinstance(value, MappedArgument):
        return expanded.get(value.name)
    if isinstance(value, XComArg) and pull is not None:
        return pull(value)
    if type(value) in (list, tuple):
        return type(value)(group_substituted(v, expanded, pull) for v in value)
    if type(value) is dict:
        return {k: group_substituted(v, expanded, pull) for k, v in value.items()}
    return value


def expansion_at(inputs: Mapping[str, Sequence[Any]], map_index: int) -> dict[str, Any]:
    """The expanded arguments of ``map_index``, given each mapped argument's full list."""
    names = sorted(inputs)
    combos = itertools.islice(itertools.product(*(inputs[n] for n in names)), map_index, None)
    try:
        return dict(zip(names, next(combos), strict=True))
    except StopIteration:
        raise IndexError(
            f"map_index {map_index} is out of range ({map_length(inputs)} task instances)"
        ) from None


def map_length(inputs: Mapping[str, Sequence[Any]]) -> int:
    return math.prod(len(values) for values in inputs.values())


class OperatorPartial:
    """The fixed arguments of a mapped classic operator, waiting for ``.expand(...)``."""

    def __init__(self, operator_class: type[BaseOperator], kwargs: dict[str, Any]) -> None:
        if "task_id" not in kwargs:
            raise TypeError(f"{operator_class.__name__}.partial() needs a task_id")
        _refuse_unknown(operator_class, kwargs, kwargs["task_id"], "partial")
        self.operator_class = operator_class
        self.dag = kwargs.pop("dag", None) or scope.current_dag()
        self.task_group = kwargs.pop("task_group", None) or scope.current_group()
        self.kwargs = apply_default_args(
            operator_class, {**kwargs, "dag": self.dag, "task_group": self.task_group}
        )
        self.kwargs.pop("dag")
        self.kwargs.pop("task_group")

    def expand(self, **mapped: Any) -> MappedOperator:
        self._check_mapped_names(mapped, "expand")
        return self._mapped(mapped)

    def expand_kwargs(self, kwargs_list: Any) -> MappedOperator:
        """``.expand_kwargs([{"bash_command": "a"}, {"bash_command": "b", "env": {...}}])``,
        or over an upstream task's list of dicts: one task instance per dict."""
        for kwargs in literal_kwargs(kwargs_list, self.kwargs["task_id"]):
            self._check_mapped_names(kwargs, "expand_kwargs")
        return self._mapped({KWARGS_INPUT: kwargs_list})

    def _check_mapped_names(self, mapped: Mapping[str, Any], method: str) -> None:
        task_id = self.kwargs["task_id"]
        _refuse_unknown(self.operator_class, mapped, task_id, method)
        structural = sorted(set(mapped) & accepted_args(_base_operator_class()))
        if structural:
            raise TypeError(
                f"{self.operator_class.__name__}(task_id={task_id!r}): cannot {method}() over "
                f"{', '.join(map(repr, structural))}; set task arguments with partial()"
            )

    def _mapped(self, mapped: dict[str, Any]) -> MappedOperator:
        return MappedOperator(
            operator_class=self.operator_class,
            partial_kwargs=self.kwargs,
            expand_input=mapped,
            expand_into=None,
            dag=self.dag,
            task_group=self.task_group,
        )


class MappedOperator(DAGNode):
    """One DAG node standing for N task instances; reads like its operator class.

    Task arguments (retries, pool, trigger_rule, template_fields, sensor settings...) are
    read from a prototype: the operator built with the first element of each literal
    input, so that they are checked when the DAG is defined, as for any task.
    """

    is_mapped = True

    def __init__(
        self,
        *,
        operator_class: type[BaseOperator],
        partial_kwargs: dict[str, Any],
        expand_input: dict[str, Any],
        expand_into: str | None,
        dag: Any,
        task_group: Any,
        mapped_group: Any = None,
    ) -> None:
        self._init_node(partial_kwargs["task_id"], dag, task_group)
        self.mapped_group = mapped_group
        self.operator_class = operator_class
        self.partial_kwargs = partial_kwargs
        self.expand_input = (
            expand_input
            if mapped_group is not None
            else checked_inputs(expand_input, f"Task {self.task_id!r}")
        )
        self.expand_into = expand_into
        self._prototype = self._build(
            _placeholders(self.expand_input, operator_class, partial_kwargs, expand_into)
        )
        self.params = dict(self._prototype.params)
        self._attach()
        for value in [*self.expand_input.values(), *self._templated_partial_values()]:
            for arg in iter_xcom_args(value):
                self.set_upstream(arg.operator)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._prototype, name)

    @property
    def operator_name(self) -> str:
        return self._prototype.operator_name

    @property
    def literal_inputs(self) -> dict[str, list[Any]]:
        return {k: list(v) for k, v in self.expand_input.items() if not isinstance(v, XComArg)}

    @property
    def xcom_inputs(self) -> dict[str, XComArg]:
        return {k: v for k, v in self.expand_input.items() if isinstance(v, XComArg)}

    def _templated_partial_values(self) -> list[Any]:
        fields = self._prototype.template_fields
        return [value for name, value in self.partial_kwargs.items() if name in fields]

    @property
    def mapped_group_id(self) -> str | None:
        """The mapped task group this task is mapped by (None: mapped by its own expand)."""
        return None if self.mapped_group is None else self.mapped_group.group_id

    def unmap(self, expanded: Mapping[str, Any], pull_same_index: Any = None) -> BaseOperator:
        """The concrete operator of one map index, given its (resolved) expanded values;
        in a mapped task group, ``pull_same_index(xcom_arg)`` gives the value of a task of
        the same group at this map index (the XComArg itself for any other task)."""
        operator = self._build(expanded, pull_same_index)
        operator._dag = self.dag
        operator.task_group = self.task_group
        operator.upstream_task_ids = set(self.upstream_task_ids)
        operator.downstream_task_ids = set(self.downstream_task_ids)
        operator.params = dict(self.params)
        return operator

    def _build(self, expanded: Mapping[str, Any], pull_same_index: Any = None) -> BaseOperator:
        expanded = dict(expanded)
        expanded.update(expanded.pop(KWARGS_INPUT, None) or {})
        kwargs = {**self.partial_kwargs, "task_id": self.task_id}
        if self.mapped_group is not None:
            kwargs = group_substituted(kwargs, expanded, pull_same_index)
        elif self.expand_into is None:
            kwargs.update(expanded)
        else:
            kwargs[self.expand_into] = {**kwargs.get(self.expand_into, {}), **expanded}
        with scope.detached():
            return self.operator_class(**kwargs)


def _base_operator_class() -> type:
    from flowsched.authoring.baseoperator import BaseOperator

    return BaseOperator


def _refuse_unknown(
    operator_class: type, kwargs: Mapping[str, Any], task_id: str, method: str
) -> None:
    unknown = sorted(set(kwargs) - accepted_args(operator_class) - {"dag", "task_group"})
    if unknown:
        raise TypeError(
            f"{operator_class.__name__}(task_id={task_id!r}).{method}() got unexpected "
            f"keyword argument(s) {', '.join(map(repr, unknown))}"
        )


def checked_inputs(inputs: dict[str, Any], what: str) -> dict:
    """The inputs of an expand(), lists copied; ``what`` (``Task 'x'``) names the caller
    in the error."""
    if not inputs:
        raise TypeError(f"{what}: expand() needs arguments")
    for name, value in inputs.items():
        if not isinstance(value, XComArg | list | tuple):
            raise TypeError(
                f"{what}: expand() argument {name!r} must be a list or the output "
                f"of another task, not {type(value).__name__}"
            )
    return {k: v if isinstance(v, XComArg) else list(v) for k, v in inputs.items()}


def _placeholders(
    inputs: Mapping[str, Any], operator_class: type, partial_kwargs: Mapping[str, Any], into: Any
) -> dict[str, Any]:
    """Arguments for the prototype: each input's first element, else None (for an
    ``expand_kwargs`` over an XCom: None for each required argument not given otherwise)."""
    values = {k: v[0] if isinstance(v, list) and v else None for k, v in inputs.items()}
    if KWARGS_INPUT in inputs and values[KWARGS_INPUT] is None:
        if into:  # TaskFlow: the function's arguments
            signatures = [inspect.signature(partial_kwargs["python_callable"])]
        else:
            signatures = [
                inspect.signature(init)
                for klass in operator_class.__mro__
                if klass is not object and (init := klass.__dict__.get("__init__")) is not None
            ]
        required = {
            p.name
            for signature in signatures
            for p in signature.parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        }
        values[KWARGS_INPUT] = dict.fromkeys(required - set(partial_kwargs) - {"self"})
    return values


def literal_kwargs(kwargs_list: Any, task_id: str) -> list[dict[str, Any]]:
    """The dicts of a literal ``expand_kwargs`` list (none for an XCom, known at run time)."""
    if isinstance(kwargs_list, XComArg):
        return []
    if not isinstance(kwargs_list, list | tuple) or not all(
        isinstance(item, dict) for item in kwargs_list
    ):
        raise TypeError(
            f"Task {task_id!r}: expand_kwargs() takes a list of dicts or the output of another "
            f"task, not {kwargs_list!r}"
        )
    return list(kwargs_list)
