"""Operators that call a Python function: plain, branching and short-circuiting."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from flowsched.authoring.baseoperator import BaseOperator
from flowsched.authoring.context import callable_kwargs, get_current_context
from flowsched.exceptions import FlowschedException

__all__ = [
    "BranchPythonOperator",
    "PythonOperator",
    "ShortCircuitOperator",
    "get_current_context",
    "is_venv_installed",
]


def is_venv_installed() -> bool:
    """False: flowsched has no virtualenv or external-Python tasks yet, so Airflow DAG files
    that build them only when this says True leave them out instead of failing to import."""
    return False


class PythonCallableMixin(BaseOperator):
    """How a task holds and calls ``python_callable``, shared by PythonOperator and
    PythonSensor so that both validate it and pass it arguments the same way."""

    python_callable: Callable[..., Any]
    op_args: list[Any]
    op_kwargs: dict[str, Any]
    templates_dict: dict[str, Any] | None

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Sequence[Any] | None = None,
        op_kwargs: Mapping[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Store the callable and its arguments, refusing a non-callable at DAG parse time
        rather than when the task runs."""
        super().__init__(**kwargs)
        if not callable(python_callable):
            raise self._invalid(
                f"python_callable must be callable, not {type(python_callable).__name__}"
            )
        self.python_callable = python_callable
        self.op_args = list(op_args or [])
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = templates_dict

    def _callable_kwargs(self, context: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments for the callable: op_kwargs win over context keys, and
        only the names its signature asks for are passed."""
        available = {**context, **self.op_kwargs, "templates_dict": self.templates_dict}
        return callable_kwargs(self.python_callable, self.op_args, available)


class PythonOperator(PythonCallableMixin):
    """Calls ``python_callable(*op_args, **op_kwargs)``; it also receives the context keys
    its signature names (or all of them if it takes ``**kwargs``)."""

    template_fields = ("templates_dict", "op_args", "op_kwargs")
    ui_color = "#ffefeb"

    def __init__(
        self,
        *,
        templates_exts: Sequence[str] | None = None,
        show_return_value_in_logs: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if templates_exts:
            self.template_ext = tuple(templates_exts)
        self.show_return_value_in_logs = show_return_value_in_logs

    def execute(self, context: dict[str, Any]) -> Any:
        kwargs = self._callable_kwargs(context)
        result = self.python_callable(*self.op_args, **kwargs)
        if self.show_return_value_in_logs:
            self.log.info("Done. Returned value was: %s", result)
        else:
            self.log.info("Done. Returned value not shown")
        return result


class BranchMixin(BaseOperator):
    """The callable returns the task id(s) to follow; the other direct downstream tasks
    are skipped. A task group id follows the group's root tasks."""

    def downstream_to_skip(self, result: Any) -> set[str]:
        followed = set()
        for branch in _branch_ids(result, self.task_id):
            followed |= self._resolve_branch(branch)
        return set(self.downstream_task_ids) - followed

    def _resolve_branch(self, branch: str) -> set[str]:
        dag = self.require_dag()
        group = self.task_group
        candidates = [branch, group.child_id(branch)] if group is not None else [branch]
        for candidate in candidates:
            if candidate in dag.task_dict:
                return {candidate}
            if candidate in dag.task_group_dict:
                return {task.task_id for task in dag.task_group_dict[candidate].roots}
        raise FlowschedException(
            f"Branch task {self.task_id!r} chose {branch!r}, which is not a task or task "
            f"group of DAG {dag.dag_id!r}"
        )


def _branch_ids(result: Any, task_id: str) -> list[str]:
    if result is None:
        return []
    if isinstance(result, str):
        return [result]
    if isinstance(result, Iterable) and all(isinstance(item, str) for item in result):
        return list(result)
    raise FlowschedException(
        f"Branch task {task_id!r} must return a task id, a list of task ids or None, not {result!r}"
    )


class BranchPythonOperator(BranchMixin, PythonOperator):
    """``python_callable`` returns the task id (or ids) to run next."""


class ShortCircuitMixin(BaseOperator):
    """A falsy result skips the downstream tasks: all of them (the default), or with
    ``ignore_downstream_trigger_rules=False`` only the direct ones, leaving the rest to
    their trigger rules."""

    ignore_downstream_trigger_rules: bool

    def downstream_to_skip(self, result: Any) -> set[str]:
        if result:
            return set()
        if self.ignore_downstream_trigger_rules:
            return self.get_flat_relative_ids(upstream=False)
        return set(self.downstream_task_ids)


class ShortCircuitOperator(ShortCircuitMixin, PythonOperator):
    """Continue only if ``python_callable`` returns a truthy value."""

    def __init__(self, *, ignore_downstream_trigger_rules: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ignore_downstream_trigger_rules = ignore_downstream_trigger_rules

    def execute(self, context: dict[str, Any]) -> Any:
        result = super().execute(context)
        self.log.info("Condition result is %s", bool(result))
        return result
