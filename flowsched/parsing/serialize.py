"""DAG <-> JSON: what the scheduler, the UI and the CLI know of a DAG without importing it.

The format is the "Serialized DAG" contract of docs/architecture.md. ``serialize_dag``
runs in the parser's child process; ``SerializedDAG.from_dict`` reads it anywhere. The
DAG file's source is not part of it: the parser stores it separately.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from flowsched.authoring.dates import iso_utc
from flowsched.authoring.mapped import expansion_at, map_length
from flowsched.authoring.params import Param, params_from_serialized, resolve_params
from flowsched.authoring.weights import effective_weights
from flowsched.exceptions import DagDefinitionError, TaskNotFound
from flowsched.utils.trigger_rule import TriggerRule
from flowsched.utils.weight_rule import WeightRule

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG
    from flowsched.authoring.node import DAGNode
    from flowsched.authoring.taskgroup import TaskGroup

FORMAT = 1


def dag_hash(data: Mapping[str, Any]) -> str:
    """sha256 of canonical JSON: equal for equal structures, whatever the key order."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- write side ------------------------------------------------------------------------------


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
    return {"literal": literal, "xcom": xcom}


# --- read side -------------------------------------------------------------------------------


def _delta(seconds: float | None) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=seconds)


def _datetime(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True)
class XComRef:
    task_id: str
    key: str


@dataclass(frozen=True)
class MappedInput:
    """What a mapped task expands over: literal lists and upstream XComs."""

    literal: dict[str, list[Any]]
    xcom: dict[str, XComRef]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MappedInput:
        xcom = {name: XComRef(ref["task_id"], ref["key"]) for name, ref in data["xcom"].items()}
        return cls(literal={k: list(v) for k, v in data["literal"].items()}, xcom=xcom)

    def map_length(self, xcom_values: Mapping[str, list[Any]]) -> int:
        """Number of task instances once the XCom inputs (name -> pulled list) are known."""
        return map_length({**self.literal, **xcom_values})

    def expansion_at(self, xcom_values: Mapping[str, list[Any]], map_index: int) -> dict:
        """The arguments of one map index, in the same order the runner unmaps."""
        return expansion_at({**self.literal, **xcom_values}, map_index)


@dataclass(frozen=True)
class SerializedTask:
    task_id: str
    operator: str
    task_group: str | None
    upstream_task_ids: frozenset[str]
    downstream_task_ids: frozenset[str]
    trigger_rule: TriggerRule
    depends_on_past: bool
    retries: int
    retry_delay: timedelta
    retry_exponential_backoff: bool
    max_retry_delay: timedelta | None
    execution_timeout: timedelta | None
    pool: str
    pool_slots: int
    priority_weight: int
    weight_rule: WeightRule
    weight: int
    queue: str
    owner: str
    email: tuple[str, ...]
    email_on_failure: bool
    email_on_retry: bool
    has_on_failure_callback: bool
    has_on_success_callback: bool
    has_on_retry_callback: bool
    doc_md: str | None
    template_fields: tuple[str, ...]
    is_sensor: bool
    sensor_mode: str | None
    poke_interval: timedelta | None
    sensor_timeout: timedelta | None
    start_date: datetime | None
    end_date: datetime | None
    ui_color: str
    ui_fgcolor: str
    mapped: MappedInput | None
    ignore_first_depends_on_past: bool = True
    wait_for_past_depends_before_skipping: bool = False
    wait_for_downstream: bool = False
    max_active_tis_per_dag: int | None = None
    max_active_tis_per_dagrun: int | None = None
    sla: timedelta | None = None
    task_display_name: str = ""
    doc_json: str | None = None
    doc_yaml: str | None = None
    doc_rst: str | None = None
    extra_links: tuple[str, ...] = ()
    extra: Mapping[str, Any] | None = None
    skips_downstream: bool = False

    @property
    def is_mapped(self) -> bool:
        return self.mapped is not None

    def retry_delay_for(self, try_number: int) -> timedelta:
        from flowsched.authoring.retries import retry_delay_for

        return retry_delay_for(
            self.retry_delay, self.retry_exponential_backoff, self.max_retry_delay, try_number
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SerializedTask:
        return cls(
            task_id=d["task_id"],
            operator=d["operator"],
            task_group=d["task_group"],
            upstream_task_ids=frozenset(d["upstream"]),
            downstream_task_ids=frozenset(d["downstream"]),
            trigger_rule=TriggerRule(d["trigger_rule"]),
            depends_on_past=d["depends_on_past"],
            retries=d["retries"],
            retry_delay=timedelta(seconds=d["retry_delay"]),
            retry_exponential_backoff=d["retry_exponential_backoff"],
            max_retry_delay=_delta(d["max_retry_delay"]),
            execution_timeout=_delta(d["execution_timeout"]),
            pool=d["pool"],
            pool_slots=d["pool_slots"],
            priority_weight=d["priority_weight"],
            weight_rule=WeightRule(d["weight_rule"]),
            weight=d["weight"],
            queue=d["queue"],
            owner=d["owner"],
            email=tuple(d["email"]),
            email_on_failure=d["email_on_failure"],
            email_on_retry=d["email_on_retry"],
            has_on_failure_callback=d["has_on_failure_callback"],
            has_on_success_callback=d["has_on_success_callback"],
            has_on_retry_callback=d["has_on_retry_callback"],
            doc_md=d["doc_md"],
            template_fields=tuple(d["template_fields"]),
            is_sensor=d["is_sensor"],
            sensor_mode=d["sensor_mode"],
            poke_interval=_delta(d["poke_interval"]),
            sensor_timeout=_delta(d["sensor_timeout"]),
            start_date=_datetime(d.get("start_date")),
            end_date=_datetime(d.get("end_date")),
            ui_color=d.get("ui_color", "#fff"),
            ui_fgcolor=d.get("ui_fgcolor", "#000"),
            mapped=MappedInput.from_dict(d["mapped"]) if d["mapped"] else None,
            ignore_first_depends_on_past=d.get("ignore_first_depends_on_past", True),
            wait_for_past_depends_before_skipping=d.get(
                "wait_for_past_depends_before_skipping", False
            ),
            wait_for_downstream=d.get("wait_for_downstream", False),
            max_active_tis_per_dag=d.get("max_active_tis_per_dag"),
            max_active_tis_per_dagrun=d.get("max_active_tis_per_dagrun"),
            sla=_delta(d.get("sla")),
            task_display_name=d.get("task_display_name") or d["task_id"],
            doc_json=d.get("doc_json"),
            doc_yaml=d.get("doc_yaml"),
            doc_rst=d.get("doc_rst"),
            extra_links=tuple(d.get("extra_links", ())),
            extra=d.get("extra"),
            skips_downstream=d.get("skips_downstream", False),
        )


class SerializedDAG:
    """A DAG as the scheduler and the UI see it; built from ``serialized_dag.data``."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        if data.get("format") != FORMAT:
            raise ValueError(
                f"Serialized DAG {data.get('dag_id')!r} has format {data.get('format')!r}; "
                f"this flowsched reads format {FORMAT} (re-parse the DAG files)"
            )
        self.data = data
        self.dag_id: str = data["dag_id"]
        self.fileloc: str = data["fileloc"]
        self.description: str | None = data["description"]
        self.doc_md: str | None = data["doc_md"]
        self.tags: list[str] = list(data["tags"])
        self.owner: str = data["owner"]
        self.schedule: dict[str, Any] = dict(data["schedule"])
        self.timezone: str = data["timezone"]
        self.start_date = _datetime(data["start_date"])
        self.end_date = _datetime(data["end_date"])
        self.catchup: bool = data["catchup"]
        self.max_active_runs: int = data["max_active_runs"]
        self.max_active_tasks: int = data["max_active_tasks"]
        self.dagrun_timeout = _delta(data["dagrun_timeout"])
        self.is_paused_upon_creation: bool | None = data.get("is_paused_upon_creation")
        self.dag_display_name: str = data.get("dag_display_name") or self.dag_id
        self.fail_stop: bool = data.get("fail_stop", False)
        self.max_consecutive_failed_dag_runs: int = data.get("max_consecutive_failed_dag_runs", 0)
        self.owner_links: dict[str, str] = dict(data.get("owner_links") or {})
        self.has_sla_miss_callback: bool = data.get("has_sla_miss_callback", False)
        self.parse_warnings: list[str] = list(data.get("parse_warnings") or [])
        self.params: dict[str, Param] = params_from_serialized(data["params"])
        self.has_on_success_callback: bool = data["has_on_success_callback"]
        self.has_on_failure_callback: bool = data["has_on_failure_callback"]
        self.task_groups: dict[str, dict[str, Any]] = dict(data.get("task_groups", {}))
        self.edge_labels: list[list[str]] = list(data.get("edge_labels", []))
        self.tasks = [SerializedTask.from_dict(task) for task in data["tasks"]]
        self.task_dict = {task.task_id: task for task in self.tasks}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SerializedDAG:
        return cls(data)

    @cached_property
    def dag_hash(self) -> str:
        return dag_hash(self.data)

    @property
    def task_ids(self) -> list[str]:
        return list(self.task_dict)

    def has_task(self, task_id: str) -> bool:
        return task_id in self.task_dict

    def get_task(self, task_id: str) -> SerializedTask:
        try:
            return self.task_dict[task_id]
        except KeyError:
            raise TaskNotFound(f"Task {task_id!r} not found in DAG {self.dag_id!r}") from None

    @property
    def roots(self) -> list[SerializedTask]:
        return [task for task in self.tasks if not task.upstream_task_ids]

    @property
    def leaves(self) -> list[SerializedTask]:
        return [task for task in self.tasks if not task.downstream_task_ids]

    def topological_sort(self) -> list[SerializedTask]:
        """Tasks are stored upstream-first, so this is their stored order."""
        return list(self.tasks)

    @cached_property
    def skipping_task_ids(self) -> frozenset[str]:
        """Tasks that may skip others (branches, short circuits)."""
        return frozenset(task.task_id for task in self.tasks if task.skips_downstream)

    def get_flat_relative_ids(self, task_id: str, upstream: bool = False) -> set[str]:
        """Every task reachable from ``task_id`` (e.g. to clear "with downstream")."""
        seen: set[str] = set()
        stack = [task_id]
        while stack:
            task = self.get_task(stack.pop())
            for other in task.upstream_task_ids if upstream else task.downstream_task_ids:
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        return seen

    def resolve_params(self, conf: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validate a trigger conf against the DAG's params (raises ParamValidationError)."""
        return resolve_params(self.params, conf)

    @cached_property
    def timetable(self) -> Any:
        from flowsched.timetables import timetable_from_serialized

        return timetable_from_serialized(self.schedule, self.timezone)

    def __repr__(self) -> str:
        return f"<SerializedDAG: {self.dag_id}>"
