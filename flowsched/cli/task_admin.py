"""``flowsched tasks`` commands that read or change task instances: list, state, clear.

Clearing gives a task instance a new try: its state goes back to None (the scheduler
increments try_number when it schedules the new try), its earlier tries stay in the try
history, and a run that had ended goes back to queued so the scheduler picks it up.
Instances queued or running are left alone: their try is in flight.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from flowsched.cli.dag_runs import find_run, parse_date
from flowsched.cli.dags import tree_lines
from flowsched.cli.errors import fail
from flowsched.cli.lookups import cli_user, get_serialized_dag, scan
from flowsched.cli.output import render
from flowsched.db import session_scope
from flowsched.db.states import (
    FINISHED_RUN_STATES,
    RUNNING_TI_STATES,
    DagRunState,
    TaskInstanceState,
    transition_run,
)
from flowsched.db.tables import AuditLog, DagRun, TaskInstance, utcnow
from flowsched.scheduling.bulk import transition_many
from flowsched.scheduling.wakeup import nudge_scheduler
from flowsched.serialized import SerializedDAG

SHOWN_BEFORE_CONFIRM = 40
CLEARABLE = [None, *(state.value for state in TaskInstanceState if state not in RUNNING_TI_STATES)]
FAILED_STATES = (TaskInstanceState.FAILED, TaskInstanceState.UPSTREAM_FAILED)


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
@click.option("--map-index", type=int, help="One instance of a mapped task.")
def task_state(dag_id: str, task_id: str, run_id: str, map_index: int | None) -> None:
    """Print the state of a task instance (RUN_ID, or the run's logical date).

    For a mapped task without --map-index, prints "<map_index> <state>" per instance.
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
    if not rows:
        where = f" with map index {map_index}" if map_index is not None else ""
        fail(f"run {run.run_id!r} has no instance of {task_id!r}{where}")
    if len(rows) == 1 and (map_index is not None or rows[0].map_index < 0):
        click.echo(rows[0].state or "none")
        return
    for index, state in rows:
        click.echo(f"{index} {state or 'none'}")


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
        task_ids = _selected_tasks(dag, task_regex, downstream=downstream, upstream=upstream)
        run_ids = _selected_runs(session, dag, run_id, start, end)
        found = _instances(session, dag_id, run_ids, task_ids, only_failed)
    todo = [ti for ti in found if ti["state"] not in RUNNING_TI_STATES]
    busy = len(found) - len(todo)
    if not todo:
        click.echo("No task instance to clear." + _busy_note(busy))
        return
    if not yes:
        _show(todo)
        click.confirm(f"Clear these {len(todo)} task instance(s)?", abort=True)
    with session_scope() as session:
        cleared = _clear(session, dag, todo)
        session.add(
            AuditLog(
                user=cli_user(),
                event="clear",
                dag_id=dag_id,
                extra=json.dumps({"cleared": cleared, "tasks": sorted(task_ids)}),
            )
        )
    nudge_scheduler()
    click.echo(f"Cleared {cleared} task instance(s)." + _busy_note(busy + len(todo) - cleared))


def _busy_note(count: int) -> str:
    return f" {count} queued or running, left alone." if count else ""


def _selected_tasks(
    dag: SerializedDAG, regex: str | None, *, downstream: bool, upstream: bool
) -> set[str]:
    try:
        pattern = re.compile(regex or "")
    except re.error as exc:
        fail(f"--task-regex {regex!r} is not a valid regular expression: {exc}")
    chosen = {task_id for task_id in dag.task_ids if pattern.search(task_id)}
    if not chosen:
        fail(f"no task of DAG {dag.dag_id!r} matches {regex!r}")
    for task_id in list(chosen):
        if downstream:
            chosen |= dag.get_flat_relative_ids(task_id)
        if upstream:
            chosen |= dag.get_flat_relative_ids(task_id, upstream=True)
    return chosen


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


def _instances(
    session: Session, dag_id: str, run_ids: list[str], task_ids: set[str], only_failed: bool
) -> list[dict[str, Any]]:
    query = select(
        TaskInstance.run_id,
        TaskInstance.task_id,
        TaskInstance.map_index,
        TaskInstance.state,
        TaskInstance.try_number,
    ).where(
        TaskInstance.dag_id == dag_id,
        TaskInstance.run_id.in_(run_ids),
        TaskInstance.task_id.in_(task_ids),
    )
    if only_failed:
        query = query.where(TaskInstance.state.in_(FAILED_STATES))
    query = query.order_by(TaskInstance.run_id, TaskInstance.task_id, TaskInstance.map_index)
    return [row._asdict() for row in session.execute(query)]


def _show(todo: list[dict[str, Any]]) -> None:
    render(
        todo[:SHOWN_BEFORE_CONFIRM],
        ["run_id", "task_id", "map_index", "state", "try_number"],
        "table",
    )
    if len(todo) > SHOWN_BEFORE_CONFIRM:
        click.echo(f"... and {len(todo) - SHOWN_BEFORE_CONFIRM} more")


def _clear(session: Session, dag: SerializedDAG, todo: list[dict[str, Any]]) -> int:
    """Guarded reset to None; max_tries becomes try_number + the task's retries, so a
    cleared task gets its full retries again (batched by run and by that value)."""
    batches: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
    for ti in todo:
        retries = dag.task_dict[ti["task_id"]].retries if dag.has_task(ti["task_id"]) else 0
        batches[(ti["run_id"], ti["try_number"] + retries)].append((ti["task_id"], ti["map_index"]))
    cleared = 0
    touched_runs = set()
    for (run_id, max_tries), keys in batches.items():
        won = transition_many(
            session, dag.dag_id, run_id, keys, expected=CLEARABLE, new=None,
            max_tries=max_tries, next_try_at=None, start_date=None, end_date=None, duration=None,
        )  # fmt: skip
        cleared += len(won)
        if won:
            touched_runs.add(run_id)
    _requeue_runs(session, dag.dag_id, touched_runs, utcnow())
    return cleared


def _requeue_runs(session: Session, dag_id: str, run_ids: set[str], now: datetime) -> None:
    """Ended runs with cleared instances go back to queued (within max_active_runs)."""
    for run_id in sorted(run_ids):
        transition_run(
            session,
            dag_id=dag_id,
            run_id=run_id,
            expected=list(FINISHED_RUN_STATES),
            new=DagRunState.QUEUED,
            queued_at=now,
            end_date=None,
        )


ADMIN_COMMANDS: list[click.Command] = [list_tasks, task_state, clear]
