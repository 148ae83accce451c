"""TaskFlow: ``@task`` turns a function into a task factory.

Calling the decorated function inside a DAG adds a task and returns an XComArg for its
return value; passing XComArgs as arguments makes the dependencies. ``.expand`` /
``.expand_kwargs`` / ``.partial`` map it, ``.override`` changes task arguments for one
call. ``@task.bash`` runs the command the function returns, ``@task.sensor`` pokes with
the function, ``@task.branch`` and ``@task.short_circuit`` steer the run, as in Airflow.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from flowsched.authoring import scope
from flowsched.authoring.context import CONTEXT_KEYS
from flowsched.authoring.default_args import apply_default_args
from flowsched.authoring.mapped import KWARGS_INPUT, MappedOperator, literal_kwargs
from flowsched.authoring.node import resolve_placement
from flowsched.authoring.taskgroup import MappedTaskGroup, enclosing_mapped_group
from flowsched.authoring.templating import jinja_env_for, render_value
from flowsched.authoring.xcom_arg import XComArg
from flowsched.operators.bash import BashOperator
from flowsched.operators.python import (
    BranchMixin,
    PythonCallableMixin,
    PythonOperator,
    ShortCircuitMixin,
)
from flowsched.sensors.python import PythonSensor


class _TaskFlowCallable(PythonCallableMixin):
    """What every ``@task`` variant does with its function: bind it, and refuse at
    definition time a call it could not accept at run time."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_call(self.python_callable, self.op_args, self.op_kwargs, self.task_id)


class _PythonDecoratedOperator(_TaskFlowCallable, PythonOperator):
    """The operator behind ``@task``."""

    custom_operator_name = "@task"


class _BranchDecoratedOperator(BranchMixin, _PythonDecoratedOperator):
    custom_operator_name = "@task.branch"


class _ShortCircuitDecoratedOperator(ShortCircuitMixin, _PythonDecoratedOperator):
    custom_operator_name = "@task.short_circuit"

    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules


class _SensorDecoratedOperator(_TaskFlowCallable, PythonSensor):
    """``@task.sensor``: the function is the poke; it returns a bool or a PokeReturnValue."""

    custom_operator_name = "@task.sensor"


class _BashDecoratedOperator(_TaskFlowCallable, BashOperator):
    """``@task.bash``: the function returns the command (a Jinja template, rendered with
    the run's context) that then runs as a BashOperator's would."""

    custom_operator_name = "@task.bash"
    template_fields: ClassVar[Sequence[str]] = ("env", "cwd", "op_args", "op_kwargs")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("multiple_outputs", None)  # the result is the command's last line
        super().__init__(bash_command="", **kwargs)

    def execute(self, context: dict[str, Any]) -> str:
        command = self.python_callable(*self.op_args, **self._callable_kwargs(context))
        if not isinstance(command, str) or not command.strip():
            raise TypeError(
                "The returned value from the TaskFlow callable must be a non-empty string."
            )
        self.bash_command = render_value(
            command, context, jinja_env_for(self.dag), tuple(self.template_ext)
        )
        return super().execute(context)


def check_call(function: Callable, args: Any, kwargs: Any, task_id: str) -> None:
    """Refuse at definition time a call the function could not accept at run time.

    Arguments named like context keys (``ti``, ``ds``...) may be left out: the runner
    fills them from the context.
    """
    signature = inspect.signature(function)
    try:
        bound = signature.bind_partial(*args, **kwargs)
    except TypeError as err:
        raise TypeError(f"Task {task_id!r} ({function.__name__}): {err}") from None
    missing = [
        p.name
        for p in signature.parameters.values()
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name not in bound.arguments
        and p.name not in CONTEXT_KEYS
    ]
    if missing:
        raise TypeError(
            f"Task {task_id!r} ({function.__name__}) is missing required argument(s) "
            f"{', '.join(map(repr, missing))}"
        )


class _TaskDecorator:
    """The object ``@task`` returns: call it to add a task, or map it with expand()."""

    def __init__(
        self,
        function: Callable[..., Any],
        operator_class: type[PythonCallableMixin],
        kwargs: dict[str, Any],
    ) -> None:
        if not callable(function):
            raise TypeError(f"@task must decorate a function, not {type(function).__name__}")
        self.function = function
        self.operator_class = operator_class
        self.kwargs = kwargs
        functools.update_wrapper(self, function)

    def override(self, **kwargs: Any) -> _TaskDecorator:
        """``extract.override(task_id="extract_eu", retries=5)(...)``."""
        return _TaskDecorator(self.function, self.operator_class, {**self.kwargs, **kwargs})

    def __call__(self, *args: Any, **kwargs: Any) -> XComArg:
        group = enclosing_mapped_group(
            resolve_placement(self.kwargs.get("dag"), self.kwargs.get("task_group"))[1]
        )
        if group is not None:
            return _TaskPartial(self, kwargs).in_mapped_group(group, args)
        operator = self.operator_class(
            **self._task_kwargs(), python_callable=self.function, op_args=args, op_kwargs=kwargs
        )
        return XComArg(operator)

    def partial(self, **kwargs: Any) -> _TaskPartial:
        return _TaskPartial(self, kwargs)

    def expand(self, **mapped: Any) -> XComArg:
        return _TaskPartial(self, {}).expand(**mapped)

    def expand_kwargs(self, kwargs_list: Any) -> XComArg:
        return _TaskPartial(self, {}).expand_kwargs(kwargs_list)

    def _task_kwargs(self) -> dict[str, Any]:
        """The decorator's arguments, with a task id made unique as Airflow does (f, f__1...)."""
        kwargs = dict(self.kwargs)
        label = kwargs.pop("task_id", self.function.__name__)
        kwargs.setdefault("multiple_outputs", _returns_dict(self.function))
        dag, group = resolve_placement(kwargs.get("dag"), kwargs.get("task_group"))
        if dag is not None:
            full_id = group.child_id(label) if group else label
            label += dag.unique_node_id(full_id)[len(full_id) :]
        return {**kwargs, "task_id": label}


class _TaskPartial:
    def __init__(self, decorator: _TaskDecorator, op_kwargs: dict[str, Any]) -> None:
        self.decorator = decorator
        self.op_kwargs = op_kwargs

    def expand(self, **mapped: Any) -> XComArg:
        """One task instance per element (or per combination, for several arguments)."""
        task_kwargs = self.decorator._task_kwargs()
        overlap = sorted(set(mapped) & set(self.op_kwargs))
        if overlap:
            raise TypeError(
                f"Task {task_kwargs['task_id']!r}: argument(s) {', '.join(map(repr, overlap))} "
                "given to both partial() and expand()"
            )
        check_call(
            self.decorator.function, (), {**self.op_kwargs, **mapped}, task_kwargs["task_id"]
        )
        return self._mapped(task_kwargs, mapped)

    def expand_kwargs(self, kwargs_list: Any) -> XComArg:
        """One task instance per dict of function arguments (a list, or an upstream XCom)."""
        task_kwargs = self.decorator._task_kwargs()
        for kwargs in literal_kwargs(kwargs_list, task_kwargs["task_id"]):
            check_call(
                self.decorator.function, (), {**self.op_kwargs, **kwargs}, task_kwargs["task_id"]
            )
        return self._mapped(task_kwargs, {KWARGS_INPUT: kwargs_list})

    def in_mapped_group(self, mapped_group: MappedTaskGroup, args: tuple) -> XComArg:
        """A plain call inside a mapped task group: one instance per element of the
        group's input, the group's MappedArguments among the call's arguments."""
        task_kwargs = self.decorator._task_kwargs()
        check_call(self.decorator.function, args, self.op_kwargs, task_kwargs["task_id"])
        return self._mapped(task_kwargs, mapped_group.expand_input, args, mapped_group)

    def _mapped(
        self,
        task_kwargs: dict[str, Any],
        mapped: dict[str, Any],
        op_args: tuple = (),
        mapped_group: MappedTaskGroup | None = None,
    ) -> XComArg:
        function = self.decorator.function
        dag = task_kwargs.pop("dag", None) or scope.current_dag()
        group = task_kwargs.pop("task_group", None) or scope.current_group()
        partial_kwargs = {
            **task_kwargs,
            "python_callable": function,
            "op_args": op_args,
            "op_kwargs": self.op_kwargs,
        }
        operator_class = self.decorator.operator_class
        merged = apply_default_args(
            operator_class, {**partial_kwargs, "dag": dag, "task_group": group}
        )
        merged.pop("dag")
        merged.pop("task_group")
        mapped_operator = MappedOperator(
            operator_class=operator_class,
            partial_kwargs=merged,
            expand_input=mapped,
            expand_into="op_kwargs",
            dag=dag,
            task_group=group,
            mapped_group=mapped_group,
        )
        return XComArg(mapped_operator)


def _returns_dict(function: Callable[..., Any]) -> bool:
    """Airflow infers ``multiple_outputs`` from a ``-> dict`` return annotation."""
    annotation = inspect.signature(function).return_annotation
    origin = getattr(annotation, "__origin__", annotation)
    return origin is dict or annotation in ("dict", "Dict") or str(annotation).startswith("dict[")


def _decorator_for(operator_class: type[PythonCallableMixin]) -> Callable[..., Any]:
    def decorate(python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        if python_callable is not None:
            return _TaskDecorator(python_callable, operator_class, kwargs)
        return lambda function: _TaskDecorator(function, operator_class, kwargs)

    return decorate


class _TaskNamespace:
    """``task`` itself decorates; ``task.python``, ``task.branch``, ``task.short_circuit``,
    ``task.bash`` and ``task.sensor`` are its variants, as in Airflow."""

    python = staticmethod(_decorator_for(_PythonDecoratedOperator))
    branch = staticmethod(_decorator_for(_BranchDecoratedOperator))
    short_circuit = staticmethod(_decorator_for(_ShortCircuitDecoratedOperator))
    bash = staticmethod(_decorator_for(_BashDecoratedOperator))
    sensor = staticmethod(_decorator_for(_SensorDecoratedOperator))

    def __call__(self, python_callable: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        return self.python(python_callable, **kwargs)


task = _TaskNamespace()
