"""DAG -> JSON: what the scheduler, the UI and the CLI will know of a DAG without importing it.

The format is the "Serialized DAG" contract of docs/architecture.md. ``serialize_dag``
runs in the parser's child process; ``flowsched.serialized`` reads the result anywhere.
The DAG file's source is not part of it: the parser stores it separately.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flowsched.authoring.dates import iso_utc
from flowsched.authoring.params import Param
from flowsched.authoring.taskgroup import MappedTaskGroup
from flowsched.authoring.weights import effective_weights
from flowsched.exceptions import DagDefinitionError
from flowsched.serialized import FORMAT

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG
    from flowsched.authoring.node import DAGNode
    from flowsched.authoring.taskgroup import TaskGroup


def serialize_dag(dag: DAG) -> dict[str, Any]:
    weights = effective_weights(dag)
    return {
        "format": FORMAT,
        "dag_id": dag.dag_id,
        "fileloc": dag.fileloc,
        "description": dag.description,
        "doc_md": dag.doc_md,
        "tags": list(dag.tags),
        "owner": dag.owner,
        "schedule": dict(dag.schedule_dict),
        "timezone": dag.timezone_name,
        "start_date": iso_utc(dag.start_date),
        "end_date": iso_utc(dag.end_date),
        "catchup": dag.catchup,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "dagrun_timeout": _seconds(dag.dagrun_timeout),
        "is_paused_upon_creation": dag.is_paused_upon_creation,
        "dag_display_name": dag.dag_display_name,
        "fail_stop": dag.fail_stop,
        "max_consecutive_failed_dag_runs": dag.max_consecutive_failed_dag_runs,
        "owner_links": dict(dag.owner_links),
        "has_sla_miss_callback": bool(dag.callbacks("sla_miss_callback")),
        "parse_warnings": dag.parse_warnings(),
        "params": _params(dag.params, f"DAG {dag.dag_id!r}"),
        "has_on_success_callback": bool(dag.callbacks("on_success_callback")),
        "has_on_failure_callback": bool(dag.callbacks("on_failure_callback")),
        "task_groups": {gid: _group(group) for gid, group in dag.task_group_dict.items()},
        "edge_labels": sorted(
            [up, down, info["label"]]
            for (up, down), info in dag.edge_info.items()
            if "label" in info
        ),
        "tasks": [_task(task, weights[task.task_id]) for task in dag.topological_sort()],
    }


def _seconds(value: timedelta | float | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _ensure_json(value: Any, what: str) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise DagDefinitionError(f"{what} is not JSON-serialisable: {err}") from None
    return value


def _params(params: Mapping[str, Param], owner: str) -> dict[str, Any]:
    return {
        name: _ensure_json(param.dump(), f"{owner}: param {name!r}")
        for name, param in params.items()
    }


def _group(group: TaskGroup) -> dict[str, Any]:
    parent = group.parent_group
    return {
        "parent": parent.group_id if parent is not None else None,
        "tooltip": group.tooltip,
        "ui_color": group.ui_color,
        "ui_fgcolor": group.ui_fgcolor,
        "is_mapped": isinstance(group, MappedTaskGroup),
    }


def _task(task: DAGNode, weight: int) -> dict[str, Any]:
    op: Any = task
    group = task.task_group
    return {
        "task_id": task.task_id,
        "operator": op.operator_name,
        "task_group": group.group_id if group is not None else None,
        "upstream": sorted(task.upstream_task_ids),
        "downstream": sorted(task.downstream_task_ids),
        "trigger_rule": str(op.trigger_rule),
        "depends_on_past": op.depends_on_past,
        "ignore_first_depends_on_past": op.ignore_first_depends_on_past,
        "wait_for_past_depends_before_skipping": op.wait_for_past_depends_before_skipping,
        "wait_for_downstream": op.wait_for_downstream,
        "max_active_tis_per_dag": op.max_active_tis_per_dag,
        "max_active_tis_per_dagrun": op.max_active_tis_per_dagrun,
        "sla": _seconds(op.sla),
        "task_display_name": op.task_display_name,
        "retries": op.retries,
        "retry_delay": _seconds(op.retry_delay),
        "retry_exponential_backoff": op.retry_exponential_backoff,
        "max_retry_delay": _seconds(op.max_retry_delay),
        "execution_timeout": _seconds(op.execution_timeout),
        "pool": op.pool,
        "pool_slots": op.pool_slots,
        "priority_weight": op.priority_weight,
        "weight_rule": str(op.weight_rule),
        "weight": weight,
        "queue": op.queue,
        "owner": op.owner,
        "email": list(op.email),
        "email_on_failure": op.email_on_failure,
        "email_on_retry": op.email_on_retry,
        "has_on_failure_callback": bool(op.callbacks("on_failure_callback")),
        "has_on_success_callback": bool(op.callbacks("on_success_callback")),
        "has_on_retry_callback": bool(op.callbacks("on_retry_callback")),
        "doc_md": op.doc_md,
        "doc_json": op.doc_json,
        "doc_yaml": op.doc_yaml,
        "doc_rst": op.doc_rst,
        "template_fields": list(op.template_fields),
        "is_sensor": op.is_sensor,
        "sensor_mode": op.mode if op.is_sensor else None,
        "poke_interval": op.poke_interval if op.is_sensor else None,
        "sensor_timeout": op.timeout if op.is_sensor else None,
        "start_date": iso_utc(op.start_date),
        "end_date": iso_utc(op.end_date),
        "ui_color": op.ui_color,
        "ui_fgcolor": op.ui_fgcolor,
        "mapped": _mapped(task) if task.is_mapped else None,
        "extra_links": list(op.extra_links),
        "extra": _ensure_json(op.serialized_extra(), f"Task {task.task_id!r}"),
        "skips_downstream": _skips_downstream(op),
    }


def _skips_downstream(operator: Any) -> bool:
    """Whether the task may skip tasks below it (a branch, a short circuit): readiness then
    consults its recorded choice when one of those tasks is cleared."""
    from flowsched.authoring.baseoperator import BaseOperator

    method = getattr(type(operator), "downstream_to_skip", BaseOperator.downstream_to_skip)
    return method is not BaseOperator.downstream_to_skip


def _mapped(task: Any) -> dict[str, Any]:
    literal = {
        name: _ensure_json(values, f"Task {task.task_id!r}: expand() input {name!r}")
        for name, values in task.literal_inputs.items()
    }
    xcom = {
        name: {"task_id": arg.task_id, "key": arg.key} for name, arg in task.xcom_inputs.items()
    }
    return {"literal": literal, "xcom": xcom, "group": task.mapped_group_id}
