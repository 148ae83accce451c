"""flowsched: a workflow scheduler with Airflow's authoring API.

The public names are imported on first use, so that ``import flowsched`` (and with it
every CLI command) does not pay for the authoring modules it may not need.
"""

from __future__ import annotations

from flowsched.lazy_exports import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC)
