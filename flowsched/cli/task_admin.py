"""``flowsched tasks`` commands that read or change task instances: list, state,
failed-deps, states-for-dag-run, clear.

Clearing is ``flowsched.operations.task_instances.clear_task_instances`` (its docstring says
what a clear resets); this module lists what it would clear and asks first.
"""

from __future__ import annotations

import re
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from flowsched.cli.dag_runs import find_run, parse_date
from flowsched.cli.dags import tree_lines
from flowsched.cli.errors import fail
from flowsched.cli.lookups import MAP_INDEX, cli_user, get_serialized_dag, reading, scan
from flowsched.cli.output import output_option, render
from flowsched.db import session_scope
from flowsched.db.tables import DagRun, TaskInstance, utcnow
from flowsched.operations.markers import follow_external_task_markers
from flowsched.operations.task_instances import TaskSelection, clear_task_instances
from flowsched.serialized import SerializedDAG

SHOWN_BEFORE_CONFIRM = 40
# dag_id too: an ExternalTaskMarker brings in other DAGs' task instances
SHOWN_COLUMNS = ["dag_id", "run_id", "task_id", "map_index", "state", "try_number"]


@click.command("list")
@click.argument("dag_id")
@click.option("--tree", is_flag=True, help="Draw the dependencies as a tree.")
def list_tasks(dag_id: str, tree: bool) -> None:
    """The DAG's task ids, upstream first."""
    scan()
    with session_scope(readonly=True) as session:
        dag = get_serialized_dag(session, dag_id)
    for line in tree_lines(dag) if tree else dag.task_ids:
        click.echo(line)


@click.command("state")
@click.argument("dag_id")
@click.argument("task_id")
@click.argument("run_id")
@click.option("--map-index", type=MAP_INDEX, help="One instance of a mapped task.")
def task_state(dag_id: str, task_id: str, run_id: str, map_index: int | None) -> None:
    """Print the state of a task instance (RUN_ID, or the run's logical date).

    As Airflow, a task instance with no state yet prints ``None`` -- so does one the
    scheduler has not created yet (a run just triggered on a paused DAG). For a mapped
    task without --map-index, prints "<map_index> <state>" per instance.
    """
    scan()
    with session_scope(readonly=True) as session:
        dag = get_serialized_dag(session, dag_id)
        if not dag.has_task(task_id):
            fail(f"DAG {dag_id!r} has no task {task_id!r} (see `flowsched tasks list {dag_id}`)")
        run = find_run(session, dag_id, run_id)
        query = select(TaskInstance.map_index, TaskInstance.state).where(
            TaskInstance.dag_id == dag_id,
            TaskInstance.run_id == run.run_id,
            TaskInstance.task_id == task_id,
        )
        if map_index is not None:
            query = query.where(TaskInstance.map_index == map_index)
        rows = session.execute(query.order_by(TaskInstance.map_index)).all()
    if not rows or (len(rows) == 1 and (map_index is not None or rows[0].map_index < 0)):
        click.echo(str(rows[0].state if rows else None))
        return
    for index, state in rows:
        click.echo(f"{index} {state}")


@click.command("failed-deps")
@click.argument("dag_id")
@click.argument("task_id")
@click.argument("run_id")
@click.option("--map-index", type=MAP_INDEX, default=-1, show_default=True,
              help="Instance of a mapped task.")  # fmt: skip
def failed_deps(dag_id: str, task_id: str, run_id: str, map_index: int) -> None:
    """Why a task instance (of RUN_ID, or the run's logical date) would not start now.

    As Airflow's: one "<dependency>: <reason>" line per unmet dependency, from the
    scheduler's own rules (run state, paused DAG, task state, trigger rule,
    depends_on_past, retry delay, pools and concurrency limits), or "all met".
    """
    from flowsched.scheduling.claims import RunRef
    from flowsched.scheduling.explain import unmet_dependencies
    from flowsched.scheduling.settings import SchedulerSettings

    with reading() as session:
        dag = get_serialized_dag(session, dag_id)
        if not dag.has_task(task_id):
            fail(f"DAG {dag_id!r} has no task {task_id!r} (see `flowsched tasks list {dag_id}`)")
        run = RunRef.of(find_run(session, dag_id, run_id))
        unmet = unmet_dependencies(
            session, dag, run, (task_id, map_index), utcnow(), SchedulerSettings.from_conf()
        )
    if not unmet:
        click.echo("Task instance dependencies are all met.")
        return
    click.echo("Task instance dependencies not met:")
    for dep, reason in unmet:
        click.echo(f"{dep}: {reason}")


@click.command("states-for-dag-run")
@click.argument("dag_id")
@click.argument("run_id")
@output_option
def states_for_dag_run(dag_id: str, run_id: str, output: str) -> None:
    """Every task instance of one run (RUN_ID, or its logical date) with its state.

    As `tasks state`, a task whose instance the scheduler has not created yet (a run just
    triggered on a paused DAG) is listed with state None, as Airflow lists it.
    """
    columns = ["dag_id", "logical_date", "task_id", "map_index", "state", "try_number",
               "start_date", "end_date"]  # fmt: skip
    with session_scope(readonly=True) as session:
        dag = get_serialized_dag(session, dag_id)
        run = find_run(session, dag_id, run_id)
        found = {
            (ti.task_id, ti.map_index): {column: getattr(ti, column, None) for column in columns}
            for ti in session.scalars(
                select(TaskInstance).where(
                    TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id
                )
            )
        }
        created = {task_id for task_id, _ in found}
        for task_id in set(dag.task_ids) - created:
            found[(task_id, -1)] = {"dag_id": dag_id, "task_id": task_id, "map_index": -1}
        rows = [{**found[key], "logical_date": run.logical_date} for key in sorted(found)]
    render(rows, columns, output)


@click.command("clear")
@click.argument("dag_id")
@click.option("-t", "--task-regex", help="Only tasks whose id matches this regex.")
@click.option("--run-id", help="Only this run.")
@click.option("-s", "--start-date", "start", help="Only runs from this logical date on.")
@click.option("-e", "--end-date", "end", help="Only runs up to this logical date.")
@click.option("-d", "--downstream", is_flag=True, help="Also every task downstream.")
@click.option("-u", "--upstream", is_flag=True, help="Also every task upstream.")
@click.option("-f", "--only-failed", is_flag=True, help="Only failed / upstream_failed ones.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def clear(
    dag_id: str,
    task_regex: str | None,
    run_id: str | None,
    start: str | None,
    end: str | None,
    downstream: bool,
    upstream: bool,
    only_failed: bool,
    yes: bool,
) -> None:
    """Clear task instances so that they run again (with their full retries)."""
    scan()
    with session_scope(readonly=True) as session:
        dag = get_serialized_dag(session, dag_id)
        selection = TaskSelection(
            dag_id,
            _selected_runs(session, dag, run_id, start, end),
            _matching_tasks(dag, task_regex),
            downstream=downstream,
            upstream=upstream,
        )
        found = clear_task_instances(
            session,
            [selection],
            actor=cli_user(),
            only_failed=only_failed,
            dry_run=True,
            follow=follow_external_task_markers(),
        )
        todo = [_row(ti) for ti in found.selected if ti not in found.left_running]
    busy = len(found.selected) - len(todo)
    if not todo:
        click.echo("No task instance to clear." + _busy_note(busy))
        return
    if not yes:
        _show(todo)
        click.confirm(f"Clear these {len(todo)} task instance(s)?", abort=True)
    with session_scope() as session:
        result = clear_task_instances(
            session,
            [selection],
            actor=cli_user(),
            only_failed=only_failed,
            follow=follow_external_task_markers(),
        )
    cleared, busy = len(result.cleared), len(result.left_running)
    click.echo(f"Cleared {cleared} task instance(s)." + _busy_note(busy))


def _busy_note(count: int) -> str:
    return f" {count} queued or running, left alone." if count else ""


def _matching_tasks(dag: SerializedDAG, regex: str | None) -> set[str]:
    try:
        pattern = re.compile(regex or "")
    except re.error as exc:
        fail(f"--task-regex {regex!r} is not a valid regular expression: {exc}")
    chosen = {task_id for task_id in dag.task_ids if pattern.search(task_id)}
    if not chosen:
        fail(f"no task of DAG {dag.dag_id!r} matches {regex!r}")
    return chosen


def _row(ti: TaskInstance) -> dict[str, Any]:
    return {column: getattr(ti, column) for column in SHOWN_COLUMNS}


def _selected_runs(
    session: Session, dag: SerializedDAG, run_id: str | None, start: str | None, end: str | None
) -> list[str]:
    if run_id is not None:
        return [find_run(session, dag.dag_id, run_id).run_id]
    query = select(DagRun.run_id).where(DagRun.dag_id == dag.dag_id)
    if start:
        query = query.where(DagRun.logical_date >= parse_date(start, dag.timezone, "--start-date"))
    if end:
        query = query.where(DagRun.logical_date <= parse_date(end, dag.timezone, "--end-date"))
    return list(session.scalars(query))


def _show(todo: list[dict[str, Any]]) -> None:
    render(todo[:SHOWN_BEFORE_CONFIRM], SHOWN_COLUMNS, "table")
    if len(todo) > SHOWN_BEFORE_CONFIRM:
        click.echo(f"... and {len(todo) - SHOWN_BEFORE_CONFIRM} more")


ADMIN_COMMANDS: list[click.Command] = [
    list_tasks,
    task_state,
    failed_deps,
    states_for_dag_run,
    clear,
]
