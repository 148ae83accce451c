"""ExternalTaskSensor: wait for another DAG (or some of its tasks, or a task group) at a
logical date; ExternalTaskMarker: clearing it with downstream clears the other DAG's task."""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Collection, Iterable
from typing import Any

from flowsched.authoring.context import callable_kwargs
from flowsched.db.states import DagRunState, TaskInstanceState
from flowsched.exceptions import FlowschedException, TaskSkipped
from flowsched.operators.empty import EmptyOperator
from flowsched.sensors.base import BaseSensorOperator
from flowsched.triggers.base import default_deferrable
from flowsched.triggers.external_task import WorkflowTrigger
from flowsched.utils.sensor_helper import ExternalTarget

# Airflow's states, including those flowsched never sets, so that its DAG files validate.
TASK_STATES = frozenset({*TaskInstanceState, "deferred", "restarting", None})
DAG_STATES = frozenset(DagRunState)


class ExternalTaskSensor(BaseSensorOperator):
    """Done when, in ``external_dag_id``'s run(s) at this run's logical date (shifted back
    by ``execution_delta``, or as ``execution_date_fn`` computes), the tasks
    ``external_task_id(s)``, the task group ``external_task_group_id`` or, with neither,
    the run itself reached ``allowed_states``. Anything in ``failed_states`` fails it
    (skips it with ``soft_fail``), anything in ``skipped_states`` skips it."""

    template_fields = (
        "external_dag_id",
        "external_task_id",
        "external_task_ids",
        "external_task_group_id",
    )
    ui_color = "#4db7db"
    extra_links = ("External DAG",)

    def __init__(
        self,
        *,
        external_dag_id: str,
        external_task_id: str | None = None,
        external_task_ids: Collection[str] | None = None,
        external_task_group_id: str | None = None,
        allowed_states: Iterable[str] | None = None,
        skipped_states: Iterable[str] | None = None,
        failed_states: Iterable[str] | None = None,
        execution_delta: datetime.timedelta | None = None,
        execution_date_fn: Callable[..., Any] | None = None,
        check_existence: bool = False,
        poll_interval: float = 2.0,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.allowed_states = list(allowed_states) if allowed_states else ["success"]
        self.skipped_states = list(skipped_states) if skipped_states else []
        self.failed_states = list(failed_states) if failed_states else []
        every = [*self.allowed_states, *self.skipped_states, *self.failed_states]
        if len(set(every)) != len(every):
            raise FlowschedException(
                "Duplicate values provided across allowed_states, skipped_states and failed_states."
            )
        external_task_ids = list(external_task_ids) if external_task_ids else None
        if external_task_id is not None and external_task_ids is not None:
            raise ValueError(
                "Only one of `external_task_id` or `external_task_ids` may be provided to "
                "ExternalTaskSensor; use external_task_id or external_task_ids or "
                "external_task_group_id."
            )
        if external_task_id is not None:
            external_task_ids = [external_task_id]
        if external_task_group_id is not None and external_task_ids is not None:
            raise ValueError(
                "Only one of `external_task_group_id` or `external_task_ids` may be provided "
                "to ExternalTaskSensor; use external_task_id or external_task_ids or "
                "external_task_group_id."
            )
        _check_states(set(every), for_tasks=bool(external_task_ids or external_task_group_id))
        if execution_delta is not None and execution_date_fn is not None:
            raise ValueError(
                "Only one of `execution_delta` or `execution_date_fn` may be provided to "
                "ExternalTaskSensor; not both."
            )
        self.execution_delta = execution_delta
        self.execution_date_fn = execution_date_fn
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        self.external_task_ids = external_task_ids
        self.external_task_group_id = external_task_group_id
        self.check_existence = check_existence
        self._has_checked_existence = False
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = poll_interval

    # --- which runs ---------------------------------------------------------------------

    def _get_dttm_filter(self, context: dict[str, Any]) -> list[datetime.datetime]:
        if self.execution_delta:
            dates: Any = context["logical_date"] - self.execution_delta
        elif self.execution_date_fn:
            dates = self._call_execution_date_fn(context)
        else:
            dates = context["logical_date"]
        return list(dates) if isinstance(dates, list | tuple) else [dates]

    def _call_execution_date_fn(self, context: dict[str, Any]) -> Any:
        """``execution_date_fn(logical_date, **the context keys it names)``; it may also
        ask for ``context`` itself, as older Airflow DAG files do."""
        assert self.execution_date_fn is not None
        logical_date = context["logical_date"]
        available = {
            k: v for k, v in context.items() if k not in {"execution_date", "logical_date"}
        }
        available["context"] = context
        kwargs = callable_kwargs(self.execution_date_fn, [logical_date], available)
        return self.execution_date_fn(logical_date, **kwargs)

    # --- poking -------------------------------------------------------------------------

    def poke(self, context: dict[str, Any]) -> bool:
        if self.external_task_ids and len(self.external_task_ids) > len(
            set(self.external_task_ids)
        ):
            raise ValueError("Duplicate task_ids passed in external_task_ids parameter")
        dates = self._get_dttm_filter(context)
        self.log.info(
            "Poking for %s on %s ... ", self._target(), ",".join(d.isoformat() for d in dates)
        )
        if self.check_existence and not self._has_checked_existence:
            self._check_for_existence()
        if self.failed_states and self._count(dates, self.failed_states) > 0:
            message = f"{self._failed_subject()} failed."
            if self.soft_fail:
                raise TaskSkipped(f"{message} Skipping due to soft_fail.")
            raise FlowschedException(message)
        if self.skipped_states and self._count(dates, self.skipped_states) > 0:
            raise TaskSkipped(
                f"{self._failed_subject()} reached a state in our states-to-skip-on list. Skipping."
            )
        return self._count(dates, self.allowed_states) == len(dates)

    def _target(self) -> str:
        if self.external_task_ids:
            return f"tasks {self.external_task_ids} in dag {self.external_dag_id}"
        if self.external_task_group_id:
            return f"task_group '{self.external_task_group_id}' in dag '{self.external_dag_id}'"
        return f"DAG '{self.external_dag_id}'"

    def _failed_subject(self) -> str:
        if self.external_task_ids:
            return (
                f"Some of the external tasks {self.external_task_ids} in DAG {self.external_dag_id}"
            )
        if self.external_task_group_id:
            return (
                f"The external task_group '{self.external_task_group_id}' in DAG "
                f"'{self.external_dag_id}'"
            )
        return f"The external DAG {self.external_dag_id}"

    def _count(self, dates: list[datetime.datetime], states: list[str]) -> float:
        target = ExternalTarget(
            self.external_dag_id, self.external_task_ids, self.external_task_group_id
        )
        return target.count(dates, states)

    def _check_for_existence(self) -> None:
        """Fail at once (rather than wait out the timeout) when what it waits for is not
        there: the DAG, its file, its task(s) or its task group."""
        from flowsched.db import session_scope
        from flowsched.db.tables import DagModel
        from flowsched.utils.sensor_helper import serialized_dag_data

        with session_scope(readonly=True) as session:
            dag = session.get(DagModel, self.external_dag_id)
            data = serialized_dag_data(session, self.external_dag_id)
            fileloc = dag.fileloc if dag is not None else None
        if dag is None or data is None:
            raise FlowschedException(f"The external DAG {self.external_dag_id} does not exist.")
        if not os.path.exists(str(fileloc)):
            raise FlowschedException(f"The external DAG {self.external_dag_id} was deleted.")
        task_ids = {task["task_id"] for task in data["tasks"]}
        for task_id in self.external_task_ids or []:
            if task_id not in task_ids:
                raise FlowschedException(
                    f"The external task {task_id} in DAG {self.external_dag_id} does not exist."
                )
        group = self.external_task_group_id
        if group and group not in data.get("task_groups", {}):
            raise FlowschedException(
                f"The external task group '{group}' in DAG '{self.external_dag_id}' does not exist."
            )
        self._has_checked_existence = True

    # --- deferrable ---------------------------------------------------------------------

    def execute(self, context: dict[str, Any]) -> Any:
        if not self.deferrable:
            return super().execute(context)
        trigger = WorkflowTrigger(
            external_dag_id=self.external_dag_id,
            execution_dates=self._get_dttm_filter(context),
            external_task_ids=self.external_task_ids,
            external_task_group_id=self.external_task_group_id,
            failed_states=self.failed_states,
            skipped_states=self.skipped_states,
            allowed_states=self.allowed_states,
            poke_interval=self.poll_interval,
            soft_fail=self.soft_fail,
        )
        self.defer(trigger=trigger, method_name="execute_complete", timeout=self.execution_timeout)

    def execute_complete(
        self, context: dict[str, Any], event: dict[str, Any] | None = None
    ) -> None:
        status = (event or {}).get("status")
        if status == "success":
            self.log.info("External tasks %s has executed successfully.", self.external_task_ids)
            return
        if status == "skipped":
            raise TaskSkipped("External job has skipped skipping.")
        if self.soft_fail:
            raise TaskSkipped("External job has failed skipping.")
        raise FlowschedException(
            "Error occurred while trying to retrieve task status. Please, check the "
            "name of executed task and Dag."
        )


def _check_states(states: set[str], *, for_tasks: bool) -> None:
    if for_tasks and not states <= TASK_STATES:
        raise ValueError(
            "Valid values for `allowed_states`, `skipped_states` and `failed_states` when "
            "`external_task_id` or `external_task_ids` or `external_task_group_id` is not "
            f"`None`: {sorted(map(str, TASK_STATES))}"
        )
    if not for_tasks and not states <= DAG_STATES:
        raise ValueError(
            "Valid values for `allowed_states`, `skipped_states` and `failed_states` when "
            f"`external_task_id` and `external_task_group_id` is `None`: {sorted(DAG_STATES)}"
        )


class ExternalTaskMarker(EmptyOperator):
    """Marks that ``external_task_id`` of ``external_dag_id`` at ``execution_date``
    (templated; this run's logical date by default) depends on this task: clearing this
    task with its downstream also clears that task and its downstream, following further
    markers up to ``recursion_depth`` levels."""

    template_fields = ("external_dag_id", "external_task_id", "execution_date")
    ui_color = "#4db7db"
    extra_links = ("External DAG",)

    def __init__(
        self,
        *,
        external_dag_id: str,
        external_task_id: str,
        execution_date: str | datetime.datetime | None = "{{ logical_date.isoformat() }}",
        recursion_depth: int = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.external_dag_id = external_dag_id
        self.external_task_id = external_task_id
        if isinstance(execution_date, datetime.datetime):
            self.execution_date = execution_date.isoformat()
        elif isinstance(execution_date, str):
            self.execution_date = execution_date
        else:
            raise TypeError(
                "Expected str or datetime.datetime type for execution_date. Got "
                f"{type(execution_date)}"
            )
        if recursion_depth <= 0:
            raise ValueError("recursion_depth should be a positive integer")
        self.recursion_depth = recursion_depth

    def serialized_extra(self) -> dict[str, Any]:
        """What a clear needs, without importing the DAG file: the templates as written."""
        return {
            "external_dag_id": self.external_dag_id,
            "external_task_id": self.external_task_id,
            "execution_date": self.execution_date,
            "recursion_depth": self.recursion_depth,
        }
