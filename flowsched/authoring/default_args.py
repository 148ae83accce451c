"""Apply ``default_args`` (DAG, then enclosing TaskGroups, then the task's own) as Airflow does.

An entry is used only for an argument the operator class accepts by name somewhere in its
``__init__`` chain, and only when the task did not pass that argument itself; so a DAG's
``default_args={"retries": 2, "bash_command": ...}`` gives every task two retries and only
BashOperators the command.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from flowsched.authoring import scope

_STRUCTURAL = frozenset({"task_id", "dag", "task_group", "default_args"})


@functools.cache
def accepted_args(operator_class: type) -> frozenset[str]:
    """Names every ``__init__`` in the class's MRO takes, i.e. what a user may pass."""
    names: set[str] = set()
    for klass in operator_class.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        for param in inspect.signature(init).parameters.values():
            if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
                names.add(param.name)
    names.discard("self")
    return frozenset(names)


def merged_default_args(kwargs: dict[str, Any]) -> dict[str, Any]:
    dag = kwargs.get("dag") or scope.current_dag()
    group = kwargs.get("task_group") or scope.current_group()
    merged: dict[str, Any] = dict(dag.default_args) if dag is not None else {}
    if group is not None and (dag is None or group.dag is dag):
        merged.update(group.merged_default_args())
    merged.update(kwargs.get("default_args") or {})
    return merged


def apply_default_args(operator_class: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments to construct with: explicit ones win over defaults."""
    defaults = merged_default_args(kwargs)
    if not defaults:
        return kwargs
    accepted = accepted_args(operator_class)
    result = {
        name: value
        for name, value in defaults.items()
        if name in accepted and name not in _STRUCTURAL
    }
    result.update(kwargs)
    if isinstance(defaults.get("params"), dict) and isinstance(kwargs.get("params"), dict):
        result["params"] = {**defaults["params"], **kwargs["params"]}
    result["default_args"] = defaults
    return result
