"""ExternalTaskMarker: clearing a marker also clears the task it points to in another DAG.

As Airflow's ``include_dependent_dags``: when a clear selects a marker, the other DAG's run
at the marker's (rendered) ``execution_date`` has its ``external_task_id`` cleared with
everything downstream of it; markers found there are followed in turn. More levels than
the first marker's ``recursion_depth`` refuse the whole clear (a cycle of markers, or a
mistake, would otherwise clear far too much).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pendulum
from sqlalchemy import select
from sqlalchemy.orm import Session

from flowsched.db.tables import DagRun, TaskInstance
from flowsched.operations.errors import Invalid
from flowsched.operations.task_instances import Follow, TaskSelection
from flowsched.serialized import SerializedDAG, SerializedTask

MARKER = "ExternalTaskMarker"


def follow_external_task_markers() -> Follow:
    """A ``follow`` for ``clear_task_instances``; one per clear (it counts the levels)."""
    return _MarkerFollower()


class _MarkerFollower:
    def __init__(self) -> None:
        self.depths: dict[tuple[str, str], int] = {}
        self.max_depth: int | None = None

    def __call__(
        self, session: Session, dag: SerializedDAG, run: DagRun, task_ids: set[str]
    ) -> Iterable[TaskSelection]:
        depth = self.depths.get((dag.dag_id, run.run_id), 0)
        selections = []
        for task_id in sorted(task_ids):
            task = dag.get_task(task_id)
            if task.operator != MARKER or not task.extra:
                continue
            if self.max_depth is None:
                self.max_depth = int(task.extra["recursion_depth"])
            if depth + 1 > self.max_depth:
                raise Invalid(
                    f"Maximum recursion depth {self.max_depth} reached for {MARKER} "
                    f"{task_id}. Attempted to clear too many tasks or there may be a cyclic "
                    "dependency."
                )
            for selection in _targets(session, dag, run, task):
                (run_id,) = selection.run_ids
                self.depths[(selection.dag_id, run_id)] = depth + 1
                selections.append(selection)
        return selections


def _targets(
    session: Session, dag: SerializedDAG, run: DagRun, marker: SerializedTask
) -> list[TaskSelection]:
    """The other DAG's runs at the marker's date that have the marked task instance."""
    fields = _marker_fields(session, dag, run, marker)
    when = pendulum.parse(fields["execution_date"])
    run_ids = session.scalars(
        select(TaskInstance.run_id)
        .join(
            DagRun, (DagRun.dag_id == TaskInstance.dag_id) & (DagRun.run_id == TaskInstance.run_id)
        )
        .where(
            TaskInstance.dag_id == fields["external_dag_id"],
            TaskInstance.task_id == fields["external_task_id"],
            DagRun.logical_date == when,
        )
        .distinct()
    )
    return [
        TaskSelection(
            fields["external_dag_id"], [run_id], [fields["external_task_id"]], downstream=True
        )
        for run_id in run_ids
    ]


def _marker_fields(
    session: Session, dag: SerializedDAG, run: DagRun, marker: SerializedTask
) -> dict[str, Any]:
    """The marker's target as its try rendered it, or (if it has not run) its templates
    rendered now against its run, without the DAG file (no user macros: as Airflow's
    webserver, which renders from the serialized DAG)."""
    from flowsched.authoring.context import context_of_run
    from flowsched.authoring.templating import jinja_env_for, render_value

    templates = dict(marker.extra or {})
    rendered = session.scalar(
        select(TaskInstance.rendered_fields).where(
            TaskInstance.dag_id == dag.dag_id,
            TaskInstance.run_id == run.run_id,
            TaskInstance.task_id == marker.task_id,
        )
    )
    if rendered and all(rendered.get(name) for name in ("external_dag_id", "external_task_id")):
        return {**templates, **rendered}
    context = context_of_run(
        dag=dag,  # type: ignore[arg-type]  # the context reads only its id and params
        task=None,
        dag_run=run,
    )
    env = jinja_env_for(None)
    names = ("external_dag_id", "external_task_id", "execution_date")
    return {**templates, **{name: render_value(templates[name], context, env) for name in names}}
