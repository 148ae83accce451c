"""``flowsched tasks``: run one try as a worker does, try a task out, read a try's log.

The commands that read or change task instances (``list``, ``state``, ``failed-deps``,
``states-for-dag-run``, ``clear``) live in ``task_admin`` and are added at the end.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TYPE_CHECKING

import click
from sqlalchemy.orm import Session

from flowsched.cli.dag_runs import parse_date
from flowsched.cli.errors import fail
from flowsched.cli.lookups import MAP_INDEX, get_dag_model, reading, scan
from flowsched.db import session_scope
from flowsched.db.states import holds_try
from flowsched.db.tables import TaskInstance, TaskInstanceState, utcnow
from flowsched.tries import ExecutorEvent, TaskKey

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG

map_index_option = click.option(
    "--map-index", type=MAP_INDEX, default=-1, show_default=True, help="Instance of a mapped task."
)


@click.group()
def tasks() -> None:
    """Run, try out and inspect task instances."""


def _task_instance(
    session: Session, dag_id: str, task_id: str, run_id: str, map_index: int
) -> TaskInstance:
    get_dag_model(session, dag_id)
    row = session.get(TaskInstance, (dag_id, run_id, task_id, map_index))
    if row is None:
        index = f" map index {map_index}" if map_index >= 0 else ""
        fail(f"no task instance {dag_id}.{task_id}{index} in run {run_id!r}")
    return row


@tasks.command("run")
@click.argument("dag_id")
@click.argument("task_id")
@click.argument("run_id")
@map_index_option
@click.option("--try-number", type=int, help="The try to run (default: the current one).")
def run(dag_id: str, task_id: str, run_id: str, map_index: int, try_number: int | None) -> None:
    """Run one queued try of a task instance, supervised, as a worker does.

    The task instance must be queued for that try (as the scheduler leaves it): a try
    owned by someone else is never run twice. Exit status 1 unless the try succeeded.
    """
    from flowsched.runner.queued_try import run_queued_try

    with reading() as session:
        row = _task_instance(session, dag_id, task_id, run_id, map_index)
        fileloc = get_dag_model(session, dag_id).fileloc
        key = TaskKey(dag_id, run_id, task_id, map_index, try_number or row.try_number)
        if row.state != TaskInstanceState.QUEUED or row.try_number != key.try_number:
            fail(f"{key} is not queued (state {row.state}, try {row.try_number}); nothing to run")
    events: list[ExecutorEvent] = []
    run_queued_try(key, fileloc, executor="cli", report=events.append)
    [event] = events
    detail = f" ({event.info})" if event.info else ""
    click.echo(f"{key}: {event.state}{detail}")
    if event.state not in (TaskInstanceState.SUCCESS, TaskInstanceState.SKIPPED):
        raise SystemExit(1)


@tasks.command("test")
@click.argument("dag_id")
@click.argument("task_id")
@click.argument("logical_date", required=False)
@map_index_option
def test(dag_id: str, task_id: str, logical_date: str | None, map_index: int) -> None:
    """Run one task here, printing its log, without recording anything.

    LOGICAL_DATE (default: now) picks the run whose context and upstream XComs the task
    sees; with no run at that date, one is made up in memory. Exit status 1 if it fails.
    """
    from flowsched.runner.test_mode import try_out_task

    dag, when = _loaded_task(dag_id, task_id, logical_date, map_index)
    outcome = try_out_task(dag, task_id, when, map_index=map_index, stream=sys.stdout)
    if outcome.state == TaskInstanceState.FAILED:
        fail(f"task {task_id!r} failed: {type(outcome.error).__name__}: {outcome.error}")
    click.echo(f"Task {task_id!r} ended: {outcome.state}")
    if outcome.result is not None:
        click.echo(f"Returned: {outcome.result!r}")


def _loaded_task(
    dag_id: str, task_id: str, logical_date: str | None, map_index: int
) -> tuple[DAG, datetime]:
    """The DAG imported from its file (user code runs here), and the date to use."""
    from flowsched.runner.loader import load_dag

    scan()
    with session_scope(readonly=True) as session:
        fileloc = get_dag_model(session, dag_id).fileloc
    dag = load_dag(fileloc, dag_id)
    if not dag.has_task(task_id):
        fail(f"DAG {dag_id!r} has no task {task_id!r}")
    if dag.get_task(task_id).is_mapped and map_index < 0:
        fail(f"task {task_id!r} is mapped: say which instance with --map-index")
    when = parse_date(logical_date, dag.timezone_name, "LOGICAL_DATE") if logical_date else utcnow()
    return dag, when


@tasks.command("render")
@click.argument("dag_id")
@click.argument("task_id")
@click.argument("logical_date", required=False)
@map_index_option
def render_templates(dag_id: str, task_id: str, logical_date: str | None, map_index: int) -> None:
    """Print a task's template fields rendered for LOGICAL_DATE (default: now), as Airflow.

    Secrets (connection passwords, sensitive variables) are masked.
    """
    import json

    from flowsched.runner.test_mode import render_task

    dag, when = _loaded_task(dag_id, task_id, logical_date, map_index)
    for name, value in render_task(dag, task_id, when, map_index=map_index).items():
        shown = json.dumps(value, indent=2) if isinstance(value, dict | list) else str(value)
        click.echo(f"\n# {'-' * 58}\n# property: {name}\n# {'-' * 58}\n{shown}")


@tasks.command("logs")
@click.argument("dag_id")
@click.argument("task_id")
@click.argument("run_id")
@map_index_option
@click.option("--try", "try_number", type=int, help="Which try (default: the latest).")
@click.option("--follow", "-f", is_flag=True, help="Keep printing while the try runs.")
def logs(
    dag_id: str, task_id: str, run_id: str, map_index: int, try_number: int | None, follow: bool
) -> None:
    """Print the log of one try of a task instance."""
    from flowsched.task_logs import LogPathError, log_path
    from flowsched.task_logs import follow as follow_log

    with reading() as session:
        row = _task_instance(session, dag_id, task_id, run_id, map_index)
        latest = row.try_number
    key = TaskKey(dag_id, run_id, task_id, map_index, try_number or latest)
    if not 1 <= key.try_number <= latest:
        fail(f"{dag_id}.{task_id} has had {latest} tries in run {run_id!r}, not {key.try_number}")
    try:
        path = log_path(*key)
    except LogPathError as error:
        fail(str(error))
    if not follow:
        if not path.exists():
            fail(f"no log for {key} (the try has not started, or its log was removed)")
        click.echo(path.read_text(errors="replace"), nl=False)
        return
    for chunk in follow_log(path, still_running=lambda: _running(key)):
        click.echo(chunk, nl=False)


def _running(key: TaskKey) -> bool:
    """Whether the try may still write to its log (queued or running, this try)."""
    with session_scope(readonly=True) as session:
        return holds_try(session, key, [TaskInstanceState.QUEUED, TaskInstanceState.RUNNING])


from flowsched.cli.task_admin import ADMIN_COMMANDS  # noqa: E402

for command in ADMIN_COMMANDS:
    tasks.add_command(command)
