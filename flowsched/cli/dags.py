"""``flowsched dags``: list DAGs and import errors, show a DAG, its next runs, pause it.

Every command scans the dags folder first (a scan of an unchanged folder costs a stat per
file), so what it shows is the folder as it is now, not as the scheduler last saw it. None
of them imports user code in this process: they read the serialized DAGs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import click
import pendulum
from sqlalchemy import select

from flowsched.cli.airflow_names import add_unsupported
from flowsched.cli.dag_runs import RUN_COMMANDS
from flowsched.cli.errors import fail
from flowsched.cli.lookups import (
    cli_user,
    get_dag_model,
    get_serialized_dag,
    operate,
    reading,
    scan,
)
from flowsched.cli.output import output_option, render, render_record
from flowsched.config import conf
from flowsched.db import session_scope
from flowsched.db.tables import DagModel, ParseImportError, utcnow
from flowsched.operations import dags as dag_ops
from flowsched.operations.dags import set_paused
from flowsched.serialized import SerializedDAG, SerializedTask
from flowsched.timetables import DagRunInfo, upcoming_runs

LIST_COLUMNS = ["dag_id", "dag_display_name", "fileloc", "owner", "paused", "schedule", "tags"]
LIST_JSON_COLUMNS = [
    *LIST_COLUMNS,
    "active",
    "schedule_expression",
    "timezone",
    "description",
    "next_dagrun",
]
NEXT_RUN_COLUMNS = ["logical_date", "data_interval_end", "run_after", "run_after_utc", "note"]
NEXT_RUN_JSON_COLUMNS = [
    "logical_date",
    "data_interval_start",
    "data_interval_end",
    "run_after",
    "run_after_utc",
    "moved_by_dst",
]


@click.group()
def dags() -> None:
    """List DAGs and import errors, show a DAG and its next runs, pause and unpause."""


def _shown_path(fileloc: str, output: str) -> str:
    """Paths relative to the dags folder in tables (shorter); absolute for scripts."""
    folder = os.path.abspath(conf.core.dags_folder)
    if output == "json" or os.path.commonpath([folder, fileloc]) != folder:
        return fileloc
    return os.path.relpath(fileloc, folder)


# --- dags list ------------------------------------------------------------------------------


@dags.command("list")
@click.option("--include-inactive", is_flag=True, help="Also DAGs whose file is gone.")
@click.option("--paused/--unpaused", default=None, help="Only paused, or only unpaused, DAGs.")
@click.option("--tag", "tags", multiple=True, help="Only DAGs with this tag (repeat: any of).")
@output_option
def list_dags(
    include_inactive: bool, paused: bool | None, tags: tuple[str, ...], output: str
) -> None:
    """List DAGs; exit status 1 when some DAG files fail to import."""
    result = scan()
    statement = select(DagModel).order_by(DagModel.dag_id)
    if not include_inactive:
        statement = statement.where(DagModel.is_active)
    if paused is not None:
        statement = statement.where(DagModel.is_paused == paused)
    with session_scope(readonly=True) as session:
        rows = [
            _dag_row(dag, output)
            for dag in session.scalars(statement)
            if not tags or set(tags) & set(dag.tags or [])
        ]
    columns = LIST_JSON_COLUMNS if output == "json" else LIST_COLUMNS
    if include_inactive and output != "json":
        columns = [*columns, "active"]
    render(rows, columns, output)
    if result.errors:
        files = "file fails" if result.errors == 1 else "files fail"
        click.echo(
            f"Error: {result.errors} DAG {files} to import; "
            "run `flowsched dags list-import-errors` to see why",
            err=True,
        )
        click.get_current_context().exit(1)


def _dag_row(dag: DagModel, output: str) -> dict[str, Any]:
    return {
        "dag_id": dag.dag_id,
        "dag_display_name": dag.dag_display_name or dag.dag_id,
        "fileloc": _shown_path(dag.fileloc, output),
        "owner": dag.owners,
        "paused": dag.is_paused,
        "schedule": dag.schedule_description,
        "tags": list(dag.tags or []),
        "active": dag.is_active,
        "schedule_expression": dag.schedule_summary,
        "timezone": dag.timezone,
        "description": dag.description,
        "next_dagrun": dag.next_dagrun,
    }


# --- dags list-import-errors ----------------------------------------------------------------


@dags.command("list-import-errors")
@click.option("--traceback", "show_traceback", is_flag=True, help="Print each full traceback.")
@output_option
def list_import_errors(show_traceback: bool, output: str) -> None:
    """DAG files that failed to import, with the reason (JSON includes the traceback)."""
    scan()
    with session_scope(readonly=True) as session:
        rows = [
            {
                "fileloc": _shown_path(error.fileloc, output),
                "message": error.message,
                "timestamp": error.timestamp,
                "stacktrace": error.stacktrace,
            }
            for error in session.scalars(
                select(ParseImportError).order_by(ParseImportError.fileloc)
            )
        ]
    if output == "table" and not rows:
        click.echo("No import errors.")
        return
    if show_traceback and output == "table":
        for row in rows:
            click.echo(f"{row['fileloc']}: {row['message']}\n{row['stacktrace']}")
        return
    columns = ["fileloc", "message", "timestamp", "stacktrace"]
    render(rows, columns if output == "json" else columns[:2], output)


# --- dags show ------------------------------------------------------------------------------


@dags.command("show")
@click.argument("dag_id")
@click.option(
    "--output",
    "-o",
    type=click.Choice(["tree", "json"]),
    default="tree",
    show_default=True,
    help="tree for people, json (tasks and edges) for scripts.",
)
def show_dag(dag_id: str, output: str) -> None:
    """The tasks of a DAG and how they depend on each other."""
    scan()
    with session_scope(readonly=True) as session:
        model = get_dag_model(session, dag_id)
        dag = get_serialized_dag(session, dag_id)
        if output == "json":
            click.echo(json.dumps(_structure(model, dag), indent=2))
            return
        name = _display(dag.dag_id, dag.dag_display_name)
        click.echo(f"{name}: {model.schedule_description} ({model.schedule_summary})")
        state = "paused" if model.is_paused else "unpaused"
        count = f"{len(dag.tasks)} task{'' if len(dag.tasks) == 1 else 's'}"
        click.echo(f"{count}, {state}, in {_shown_path(model.fileloc, 'tree')}")
        for warning in dag.parse_warnings:
            click.echo(f"Warning: {warning}")
    for line in tree_lines(dag):
        click.echo(line)


def _structure(model: DagModel, dag: SerializedDAG) -> dict[str, Any]:
    return {
        "dag_id": dag.dag_id,
        "dag_display_name": dag.dag_display_name,
        "description": dag.description,
        "fileloc": model.fileloc,
        "schedule": model.schedule_summary,
        "schedule_description": model.schedule_description,
        "timezone": dag.timezone,
        "paused": model.is_paused,
        "active": model.is_active,
        "parse_warnings": dag.parse_warnings,
        "tasks": [_task_summary(task) for task in dag.tasks],
        "edges": [
            [task.task_id, downstream]
            for task in dag.tasks
            for downstream in _ordered(dag, task.downstream_task_ids)
        ],
    }


def _task_summary(task: SerializedTask) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "task_display_name": task.task_display_name,
        "operator": task.operator,
        "task_group": task.task_group,
        "trigger_rule": str(task.trigger_rule),
        "retries": task.retries,
        "pool": task.pool,
        "mapped": task.is_mapped,
    }


def _display(identifier: str, display_name: str) -> str:
    """``Nice name (the_id)`` when a display name is set, else the id."""
    if display_name and display_name != identifier:
        return f"{display_name} ({identifier})"
    return identifier


def _ordered(dag: SerializedDAG, task_ids: frozenset[str]) -> list[str]:
    """Task ids in the DAG's stored (upstream-first) order, so output never shuffles."""
    return [task.task_id for task in dag.tasks if task.task_id in task_ids]


def tree_lines(dag: SerializedDAG) -> Iterator[str]:
    """Each root, then its downstream tasks indented below it.

    A task with several upstream tasks is drawn in full the first time only; later it is
    named with "(see above)", so a wide diamond stays as long as the DAG, not exponential.
    """
    drawn: set[str] = set()

    def lines(task_id: str, prefix: str, connector: str, child_prefix: str) -> Iterator[str]:
        task = dag.get_task(task_id)
        name = _display(task_id, task.task_display_name)
        label = f"{name}  [{task.operator}{', mapped' if task.is_mapped else ''}]"
        if task_id in drawn:
            yield f"{prefix}{connector}{task_id}  (see above)"
            return
        drawn.add(task_id)
        yield f"{prefix}{connector}{label}"
        children = _ordered(dag, task.downstream_task_ids)
        for index, child in enumerate(children):
            last = index == len(children) - 1
            yield from lines(
                child,
                prefix + child_prefix,
                "└── " if last else "├── ",
                "    " if last else "│   ",
            )

    for root in dag.roots:
        yield from lines(root.task_id, "", "", "")


# --- dags next-runs -------------------------------------------------------------------------


@dags.command("next-runs")
@click.argument("dag_id")
@click.option("-n", "count", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option(
    "--after",
    metavar="DATETIME",
    help="List runs due after this moment instead of now, e.g. 2025-03-29T00:00 "
    "(read in the DAG's time zone unless it has an offset).",
)
@output_option
def next_runs(dag_id: str, count: int, after: str | None, output: str) -> None:
    """The next runs the schedule creates: logical date, data interval, when each runs.

    flowsched's fuller `dags next-execution` (which prints only the logical dates).

    Times are shown in the DAG's time zone and in UTC; a run whose wall-clock time does
    not exist (a spring-forward gap) runs at the first instant after it, marked "moved by
    DST".
    """
    scan()
    with session_scope(readonly=True) as session:
        dag = get_serialized_dag(session, dag_id)
    timetable = dag.timetable
    start = _parse_moment(after, dag.timezone) if after else utcnow()
    runs = upcoming_runs(
        timetable, start_date=dag.start_date, end_date=dag.end_date, after=start, n=count
    )
    rows = [_run_row(run, dag.timezone, output) for run in runs]
    if output == "json":
        render(rows, NEXT_RUN_JSON_COLUMNS, output)
        return
    click.echo(f"{dag_id}: {timetable.description} ({timetable.summary}), in {dag.timezone}")
    if not runs:
        click.echo("No upcoming runs.")
        return
    render(rows, NEXT_RUN_COLUMNS, output)


def _parse_moment(text: str, zone: str) -> datetime:
    try:
        moment = pendulum.parse(text, tz=zone)
    except ValueError:
        moment = None
    if not isinstance(moment, datetime):  # a duration such as "P1D" parses too
        fail(f"--after: {text!r} is not a date and time like 2025-03-29T00:00")
    return moment


def _run_row(run: DagRunInfo, zone: str, output: str) -> dict[str, Any]:
    local = _iso if output == "json" else _wall_clock
    return {
        "logical_date": local(run.logical_date, zone),
        "data_interval_start": local(run.data_interval.start, zone),
        "data_interval_end": local(run.data_interval.end, zone),
        "run_after": local(run.run_after, zone),
        "run_after_utc": local(run.run_after, "UTC"),
        "moved_by_dst": run.moved_by_dst,
        "note": "moved by DST" if run.moved_by_dst else "",
    }


def _iso(instant: datetime, zone: str) -> str:
    return pendulum.instance(instant).in_timezone(zone).isoformat()


def _wall_clock(instant: datetime, zone: str) -> str:
    """E.g. "2025-03-30 03:00 CEST": the abbreviation makes the DST side visible."""
    return pendulum.instance(instant).in_timezone(zone).strftime("%Y-%m-%d %H:%M %Z")


@dags.command("next-execution")
@click.argument("dag_id")
@click.option("-n", "--num-executions", "count", type=click.IntRange(1, 1000), default=1,
              show_default=True, help="How many logical dates to print.")  # fmt: skip
def next_execution(dag_id: str, count: int) -> None:
    """The logical dates of the next scheduled runs, one a line (as Airflow; "None" for
    an unscheduled DAG). `dags next-runs` shows more: intervals, when each runs, DST."""
    scan()
    with session_scope(readonly=True) as session:
        model = get_dag_model(session, dag_id)
        dag = get_serialized_dag(session, dag_id)
        paused = model.is_paused
    if paused:
        click.echo("[INFO] Please be reminded this DAG is PAUSED now.", err=True)
    runs = upcoming_runs(
        dag.timetable, start_date=dag.start_date, end_date=dag.end_date, after=utcnow(), n=count
    )
    for run in runs or [None]:
        click.echo(_iso(run.logical_date, dag.timezone) if run else None)


@dags.command("details")
@click.argument("dag_id")
@output_option
def details(dag_id: str, output: str) -> None:
    """A DAG's stored attributes: schedule, owner, paused, file, next run, tasks."""
    scan()
    with session_scope(readonly=True) as session:
        model = get_dag_model(session, dag_id)
        structure = _structure(model, get_serialized_dag(session, dag_id))
        record = {
            **{key: value for key, value in structure.items() if key not in ("tasks", "edges")},
            "owners": model.owners,
            "tags": list(model.tags or []),
            "next_dagrun": model.next_dagrun,
            "task_ids": [task["task_id"] for task in structure["tasks"]],
        }
    render_record(record, output)


@dags.command("report")
@output_option
def report(output: str) -> None:
    """Each DAG file with how long it took to parse and the DAGs and tasks in it."""
    scan()
    with session_scope(readonly=True) as session:
        rows = [
            {"file": _shown_path(file.fileloc, output), "duration": file.parse_duration,
             "dag_num": len(file.dag_ids), "task_num": tasks, "dags": list(file.dag_ids)}
            for file, tasks in dag_ops.parse_report(session)
        ]  # fmt: skip
    render(rows, ["file", "duration", "dag_num", "task_num", "dags"], output)


@dags.command("reserialize")
@click.option("--clear-only", is_flag=True, help="Only forget the stored parses.")
def reserialize(clear_only: bool) -> None:
    """Parse every DAG file again, even unchanged ones, and store the DAGs anew."""
    operate(dag_ops.forget_parses)
    if clear_only:
        click.echo("Stored parses forgotten: the next scan reads every file.")
        return
    result = scan()
    click.echo(f"Reserialized the dags folder ({result.errors} import error(s)).")


@dags.command("list-jobs")
@click.option("-d", "--dag-id", help="Accepted for Airflow's scripts: flowsched's jobs serve "
              "every DAG.")  # fmt: skip
@click.option("--state", type=click.Choice(["running", "success", "failed"]))
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@output_option
def list_jobs(dag_id: str | None, state: str | None, limit: int, output: str) -> None:
    """Scheduler and worker jobs, newest first (`jobs check` says which are alive)."""
    columns = ["id", "job_type", "state", "hostname", "pid", "start_date", "end_date",
               "latest_heartbeat"]  # fmt: skip
    with reading() as session:
        if dag_id:
            get_dag_model(session, dag_id)
        rows = [
            {column: getattr(job, column) for column in columns}
            for job in dag_ops.list_jobs(session, state, limit)
        ]
    render(rows, columns, output)


# --- dags pause / unpause -------------------------------------------------------------------


@dags.command("pause")
@click.argument("dag_id")
def pause(dag_id: str) -> None:
    """Stop the scheduler from creating and starting runs of this DAG."""
    _set_paused(dag_id, paused=True)


@dags.command("unpause")
@click.argument("dag_id")
def unpause(dag_id: str) -> None:
    """Let the scheduler create and start runs of this DAG again."""
    _set_paused(dag_id, paused=False)


def _set_paused(dag_id: str, paused: bool) -> None:
    scan()
    word = "paused" if paused else "unpaused"
    with session_scope() as session:
        get_dag_model(session, dag_id)
        changed = set_paused(session, dag_id, paused, actor=cli_user())
    click.echo(f"DAG {dag_id!r} {word}." if changed else f"DAG {dag_id!r} is already {word}.")


# The run commands (trigger, list-runs, state, test, backfill, delete) live in their own module.
for command in RUN_COMMANDS:
    dags.add_command(command)

add_unsupported(
    dags,
    {
        "show-dependencies": "flowsched has no datasets, so DAGs depend on each other only "
        "through sensors and TriggerDagRunOperator"
    },
)
