"""flowsched: a workflow scheduler with Airflow's authoring API.

The public names are imported on first use, so that ``import flowsched`` (and with it
every CLI command) does not pay for the authoring modules it may not need.
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "DAG": "flowsched.authoring.dag",
    "dag": "flowsched.authoring.dag",
    "task": "flowsched.taskflow",
    "TaskGroup": "flowsched.authoring.taskgroup",
    "task_group": "flowsched.authoring.taskgroup",
    "Param": "flowsched.authoring.params",
    "chain": "flowsched.authoring.chain",
    "cross_downstream": "flowsched.authoring.chain",
    "XComArg": "flowsched.authoring.xcom_arg",
    "Variable": "flowsched.db.variable",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module_name = _PUBLIC.get(name)
    if module_name is None:
        raise AttributeError(f"module 'flowsched' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
