"""Airflow arguments that flowsched accepts but that change nothing here.

An Airflow DAG file must load unchanged, so ``DAG`` and ``BaseOperator`` take every keyword
Airflow 2.10 takes. Those without an effect in flowsched are kept on the object (DAG code
may read them back) and reported once per DAG as a *parse warning*: a line stored in the
serialized DAG (``parse_warnings``) and shown on the DAG's page, so that nobody believes,
say, ``run_as_user`` is honoured when it is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# name -> why it changes nothing here
IGNORED_DAG_ARGS: Mapping[str, str] = {
    "default_view": "the DAG page always opens on its grid",
    "orientation": "the graph view is always laid out left to right",
    "access_control": "roles are global (admin, viewer), not per DAG",
    "full_filepath": "Airflow ignores it too (deprecated)",
}
IGNORED_TASK_ARGS: Mapping[str, str] = {
    "executor": "one executor, [core] executor, runs every task",
    "executor_config": "executors take no per-task settings (route tasks with queue=)",
    "resources": "tasks do not reserve CPU, RAM or disk",
    "run_as_user": "tasks run as the user of the worker (no impersonation)",
    "inlets": "lineage is not recorded",
    "outlets": "lineage and datasets are not supported",
    "map_index_template": "mapped task instances are shown by their map index",
    "allow_nested_operators": "running an operator inside another one is not checked",
}
# arguments whose default is not None: a value other than this one is worth a warning
_TRUE_BY_DEFAULT = frozenset({"allow_nested_operators"})


def ignored_values(names: Iterable[str], values: Mapping[str, Any]) -> dict[str, Any]:
    """The ones of ``names`` given a value that asks for something (not None or empty)."""
    return {name: values[name] for name in names if _asks_for_something(name, values[name])}


def _asks_for_something(name: str, value: Any) -> bool:
    if name in _TRUE_BY_DEFAULT:
        return value is not True
    return value is not None and value != {} and value != [] and value != ()


def parse_warnings(dag_ignored: Iterable[str], task_ignored: Mapping[str, list[str]]) -> list[str]:
    """One line per ignored argument: the DAG's, then the tasks' (naming up to 5 tasks)."""
    lines = [
        f"DAG argument {name!r} is accepted for Airflow compatibility and ignored: "
        f"{IGNORED_DAG_ARGS[name]}"
        for name in dag_ignored
    ]
    for name, task_ids in task_ignored.items():
        more = f" and {len(task_ids) - 5} more" if len(task_ids) > 5 else ""
        shown = ", ".join(task_ids[:5]) + more
        lines.append(
            f"Task argument {name!r} (on {shown}) is accepted for Airflow compatibility and "
            f"ignored: {IGNORED_TASK_ARGS[name]}"
        )
    return lines
