"""Reading a serialized DAG: what the scheduler, the UI and the CLI know of a DAG
without importing its file.

The format is the "Serialized DAG" contract of docs/architecture.md; the parser writes
it (``flowsched.parsing.serialize``) in its child process. Order and reachability
follow ``flowsched.task_graph``, the rule the DAG objects use too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from flowsched.authoring.mapped import expansion_at, map_length
from flowsched.authoring.params import Param, params_from_serialized, resolve_params
from flowsched.task_graph import TaskLookup, reachable
from flowsched.utils.trigger_rule import TriggerRule
from flowsched.utils.weight_rule import WeightRule

if TYPE_CHECKING:
    from flowsched.timetables.base import Timetable

FORMAT = 1


def dag_hash(data: Mapping[str, Any]) -> str:
    """sha256 of canonical JSON: equal for equal structures, whatever the key order."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    group: str | None = None  # the mapped task group whose input this is, if any

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MappedInput:
        xcom = {name: XComRef(ref["task_id"], ref["key"]) for name, ref in data["xcom"].items()}
        literal = {k: list(v) for k, v in data["literal"].items()}
        return cls(literal=literal, xcom=xcom, group=data.get("group"))

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
        from flowsched.db.failure import retry_delay_for

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


class SerializedDAG(TaskLookup[SerializedTask]):
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

    @cached_property
    def skipping_task_ids(self) -> frozenset[str]:
        """Tasks that may skip others (branches, short circuits)."""
        return frozenset(task.task_id for task in self.tasks if task.skips_downstream)

    def get_flat_relative_ids(self, task_id: str, upstream: bool = False) -> set[str]:
        """Every task reachable from ``task_id`` (e.g. to clear "with downstream")."""
        self.get_task(task_id)  # an unknown task is an error, not an empty set
        return reachable(self._relatives(upstream), [task_id])

    def _relatives(self, upstream: bool) -> dict[str, frozenset[str]]:
        if upstream:
            return {task.task_id: task.upstream_task_ids for task in self.tasks}
        return {task.task_id: task.downstream_task_ids for task in self.tasks}

    def resolve_params(self, conf: Mapping[str, Any] | None) -> dict[str, Any]:
        """Validate a trigger conf against the DAG's params (raises ParamValidationError)."""
        return resolve_params(self.params, conf)

    @cached_property
    def timetable(self) -> Timetable:
        from flowsched.timetables import timetable_from_serialized

        return timetable_from_serialized(self.schedule, self.timezone)

    def __repr__(self) -> str:
        return f"<SerializedDAG: {self.dag_id}>"
