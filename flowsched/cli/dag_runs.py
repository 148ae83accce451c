"""``flowsched dags`` commands about runs: trigger, list-runs, state, test, backfill, delete.

Commands that create or change runs nudge a running scheduler (``flowsched.wakeup``), so
a triggered run starts within milliseconds instead of at the scheduler's next poll.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click
import pendulum
from sqlalchemy import select
from sqlalchemy.orm import Session

from flowsched import json_text
from flowsched.cli.errors import fail
from flowsched.cli.lookups import cli_user, get_dag_model, get_serialized_dag, no_such_dag, scan
from flowsched.cli.output import output_option, render
from flowsched.db import run_rules, session_scope
from flowsched.db.states import FINISHED_RUN_STATES, DagRunState
from flowsched.db.tables import DagModel, DagRun, TaskInstance, TaskInstanceHistory, utcnow
from flowsched.operations import dags as dag_ops
from flowsched.operations import runs as run_ops
from flowsched.operations.runs import delete_runs, trigger_run
from flowsched.scheduling import runs
from flowsched.task_logs import log_path

FAILED_TRY_STATES = ("failed", "up_for_retry")
RUN_COLUMNS = [
    "dag_id", "run_id", "state", "run_type", "logical_date", "start_date", "end_date", "duration",
]  # fmt: skip


def parse_date(value: str, zone: str, what: str) -> datetime:
    """An ISO date or date-time; without an offset it is read in the DAG's time zone."""
    parsed = _parse_datetime(value, zone)
    if parsed is None:
        fail(f"{what} {value!r} is not a date (use e.g. 2024-01-31 or 2024-01-31T07:00)")
    return parsed


def _parse_datetime(value: str, zone: str) -> datetime | None:
    try:
        parsed = pendulum.parse(value, tz=zone, strict=False)
    except ValueError:  # pendulum's ParserError included
        return None
    if not isinstance(parsed, datetime):
        return None
    return pendulum.instance(parsed).in_timezone("UTC")


def parse_conf(text: str | None) -> Any:
    """The --conf JSON text as a value (the operation checks it is a fitting object)."""
    if text is None:
        return {}
    try:
        return json_text.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"--conf is not valid JSON: {exc}")


def find_run(session: Session, dag_id: str, run_id: str) -> DagRun:
    """A run by id (or by logical date, as Airflow's ``dags state`` takes one)."""
    run = run_rules.run_exists(session, dag_id, run_id=run_id)
    when = _parse_datetime(run_id, "UTC") if run is None else None
    if when is not None:
        run = run_rules.run_exists(session, dag_id, logical_date=when)
    if run is None:
        fail(f"DAG {dag_id!r} has no run {run_id!r} (see `flowsched dags list-runs {dag_id}`)")
    return run


# --- trigger ---------------------------------------------------------------------------------


@click.command("trigger")
@click.argument("dag_id")
@click.option("--conf", "-c", "conf_text", help="JSON object for the run, e.g. '{\"x\": 1}'.")
@click.option(
    "--logical-date", "-e", "--exec-date", help="Logical date [default: now]; no offset: DAG zone."
)
@click.option("--run-id", "-r", help="Run id [default: manual__<logical date>].")
def trigger(
    dag_id: str, conf_text: str | None, logical_date: str | None, run_id: str | None
) -> None:
    """Queue a manual run; the scheduler starts it (when the DAG is not paused)."""
    scan()
    with session_scope() as session:
        dag = get_serialized_dag(session, dag_id)
        when = parse_date(logical_date, dag.timezone, "--logical-date") if logical_date else None
        run = trigger_run(
            session, dag_id, actor=cli_user(), conf=parse_conf(conf_text), logical_date=when,
            run_id=run_id,
        )  # fmt: skip
        run_id, when = run.run_id, run.logical_date
        paused = get_dag_model(session, dag_id).is_paused
    click.echo(f"Queued run {run_id} of {dag_id} (logical date {when.isoformat()}).")
    if paused:
        click.echo(f"DAG {dag_id!r} is paused: the run starts once it is unpaused.", err=True)


# --- list-runs / state -----------------------------------------------------------------------


@click.command("list-runs")
@click.argument("dag_id", required=False)
@click.option("-d", "--dag-id", "dag_id_option", metavar="DAG_ID", help="Airflow's form of DAG_ID.")
@click.option(
    "--state", type=click.Choice([s.value for s in DagRunState]), help="Only runs in this state."
)
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@output_option
def list_runs(
    dag_id: str | None, dag_id_option: str | None, state: str | None, limit: int, output: str
) -> None:
    """The DAG's runs, newest logical date first (DAG_ID, or Airflow's -d DAG_ID)."""
    if (dag_id is None) == (dag_id_option is None):
        fail("name the DAG once: `dags list-runs DAG_ID` or `dags list-runs -d DAG_ID`")
    dag_id = dag_id or dag_id_option
    assert dag_id is not None
    with session_scope(readonly=True) as session:
        if session.get(DagModel, dag_id) is None:
            fail(no_such_dag(dag_id))
        query = select(DagRun).where(DagRun.dag_id == dag_id)
        if state:
            query = query.where(DagRun.state == state)
        found = session.scalars(query.order_by(DagRun.logical_date.desc()).limit(limit)).all()
        rows = [{column: getattr(run, column) for column in RUN_COLUMNS} for run in found]
    render(rows, RUN_COLUMNS, output)


@click.command("state")
@click.argument("dag_id")
@click.argument("run_id")
def run_state(dag_id: str, run_id: str) -> None:
    """Print the state of one run (RUN_ID, or its logical date)."""
    with session_scope(readonly=True) as session:
        if session.get(DagModel, dag_id) is None:
            fail(no_such_dag(dag_id))
        click.echo(find_run(session, dag_id, run_id).state)


# --- test ------------------------------------------------------------------------------------


@click.command("test")
@click.argument("dag_id")
@click.argument("logical_date", required=False)
@click.option("--conf", "-c", "conf_text", help="JSON object for the run.")
def test(dag_id: str, logical_date: str | None, conf_text: str | None) -> None:
    """Run one whole DAG run here, task by task, without a scheduler; exit 1 if it fails.

    Tries run one at a time (SequentialExecutor), each in a child process, with the same
    readiness rules as the scheduler. A previous test run at the same date is replaced.
    """
    if test_dag_run(dag_id, logical_date, conf_text) != DagRunState.SUCCESS:
        raise SystemExit(1)


def test_dag_run(dag_id: str, logical_date: str | datetime | None, conf_text: str | None) -> str:
    """What ``dags test`` and ``dag.test()`` do: one run to its end, here, showing
    progress, the failed tries' logs and a final table; the run's final state."""
    from flowsched.executors.sequential import SequentialExecutor
    from flowsched.scheduling.inline import run_to_end

    scan()
    with session_scope() as session:
        dag = get_serialized_dag(session, dag_id)
        if isinstance(logical_date, str):
            when = parse_date(logical_date, dag.timezone, "LOGICAL_DATE")
        else:
            when = logical_date or utcnow()
        _replace_test_run(session, dag_id, when)
        run = trigger_run(
            session, dag_id, actor=cli_user(), conf=parse_conf(conf_text), logical_date=when,
            run_type=run_rules.TEST,
        )  # fmt: skip
        runs.start_run(session, dag, run, utcnow())
        key = (dag_id, run.run_id)
    click.echo(f"Testing {dag_id}, run {key[1]}")
    progress = _Progress(key)
    state = run_to_end(key, SequentialExecutor(), on_pass=progress.show)
    rows = progress.final_rows()
    click.echo()
    if state != DagRunState.SUCCESS:
        _print_failed_tries(key)
    render(rows, ["task_id", "map_index", "state", "try_number", "duration"], "table")
    click.echo(f"Run {key[1]}: {state}")
    return state


def _print_failed_tries(key: tuple[str, str]) -> None:
    """The log of every try that failed, traceback included, so that a failing test run
    explains itself on the terminal (Airflow prints its task logs inline)."""
    with session_scope(readonly=True) as session:
        tries = session.execute(
            select(
                TaskInstanceHistory.task_id,
                TaskInstanceHistory.map_index,
                TaskInstanceHistory.try_number,
                TaskInstanceHistory.state,
            )
            .where(
                TaskInstanceHistory.dag_id == key[0],
                TaskInstanceHistory.run_id == key[1],
                TaskInstanceHistory.state.in_(FAILED_TRY_STATES),
            )
            .order_by(TaskInstanceHistory.start_date, TaskInstanceHistory.id)
        ).all()
    for task_id, map_index, try_number, try_state in tries:
        index = f"[{map_index}]" if map_index >= 0 else ""
        click.echo(f"----- {task_id}{index}, try {try_number} ({try_state}): log -----")
        path = log_path(key[0], key[1], task_id, map_index, try_number)
        text = path.read_text(errors="replace") if path.exists() else "(no log was written)\n"
        click.echo(text, nl=False)
    if tries:
        click.echo("-----")


def _replace_test_run(session: Session, dag_id: str, when: datetime) -> None:
    existing = run_rules.run_exists(session, dag_id, logical_date=when)
    if existing is not None and existing.run_type == run_rules.TEST:
        delete_runs(session, dag_id, [existing.run_id])


class _Progress:
    """Prints each task instance's new state as passes go by."""

    def __init__(self, key: tuple[str, str]) -> None:
        self.key = key
        self.seen: dict[tuple[str, int], str | None] = {}

    def _rows(self) -> Sequence[Any]:
        columns = ("task_id", "map_index", "state", "try_number", "duration", "start_date")
        with session_scope(readonly=True) as session:
            return session.execute(
                select(*(getattr(TaskInstance, column) for column in columns))
                .where(TaskInstance.dag_id == self.key[0], TaskInstance.run_id == self.key[1])
                .order_by(
                    TaskInstance.start_date.is_(None),
                    TaskInstance.start_date,
                    TaskInstance.task_id,
                    TaskInstance.map_index,
                )
            ).all()

    def show(self) -> None:
        for ti in self._rows():
            ti_key = (ti.task_id, ti.map_index)
            if ti.state is None or self.seen.get(ti_key) == ti.state:
                continue
            self.seen[ti_key] = ti.state
            index = f"[{ti.map_index}]" if ti.map_index >= 0 else ""
            took = f" in {ti.duration:.2f} s" if ti.duration else ""
            click.echo(f"  {time.strftime('%H:%M:%S')}  {ti.task_id}{index}: {ti.state}{took}")

    def final_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "task_id": ti.task_id,
                "map_index": ti.map_index if ti.map_index >= 0 else "",
                "state": ti.state or "none",
                "try_number": ti.try_number,
                "duration": f"{ti.duration:.2f} s" if ti.duration is not None else "",
            }
            for ti in self._rows()
        ]


# --- backfill --------------------------------------------------------------------------------


@click.command("backfill")
@click.argument("dag_id")
@click.option("-s", "--start-date", "start", required=True, help="First logical date (inclusive).")
@click.option("-e", "--end-date", "end", required=True, help="Last logical date (inclusive).")
@click.option("--dry-run", is_flag=True, help="Only list the runs that would be created.")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Wait for the runs to finish (when a scheduler is running).",
)
@output_option
def backfill(dag_id: str, start: str, end: str, dry_run: bool, wait: bool, output: str) -> None:
    """Create runs for every schedule interval between START and END, for the scheduler.

    Runs that already exist are left alone; backfill runs start even if the DAG is
    paused, within its max_active_runs. Exit status 1 if a waited-for run failed.
    """
    scan()
    with session_scope() as session:
        dag = get_serialized_dag(session, dag_id)
        first = parse_date(start, dag.timezone, "--start-date")
        last = parse_date(end, dag.timezone, "--end-date")
        plan = run_ops.backfill(session, dag_id, first, last, actor=cli_user(), dry_run=dry_run)
    created = "would create" if dry_run else "created"
    rows = [
        {"logical_date": run.interval.start, "data_interval_end": run.interval.end,
         "run_id": run.run_id, "action": "exists, left alone" if run.exists else created}
        for run in plan
    ]  # fmt: skip
    render(rows, ["logical_date", "data_interval_end", "run_id", "action"], output)
    new_runs = [run.run_id for run in plan if not run.exists]
    if wait and new_runs and not dry_run:
        _wait_for(dag_id, new_runs)


def _wait_for(dag_id: str, run_ids: list[str]) -> None:
    """Follow the runs until they end (if a scheduler is there to run them)."""
    from flowsched.scheduling.jobs import live_scheduler_count

    with session_scope(readonly=True) as session:
        if live_scheduler_count(session) == 0:
            click.echo(
                "No scheduler is running: the runs start when one does (`flowsched scheduler`).",
                err=True,
            )
            return
    from rich.progress import Progress

    with Progress(transient=False) as bar:
        task = bar.add_task(f"backfill {dag_id}", total=len(run_ids))
        while True:
            states = _run_states(dag_id, run_ids)
            done = sum(1 for state in states.values() if state in FINISHED_RUN_STATES)
            bar.update(task, completed=done)
            if done == len(run_ids):
                break
            time.sleep(0.5)
    failed = sorted(run_id for run_id, state in states.items() if state == DagRunState.FAILED)
    if failed:
        fail(f"{len(failed)} of {len(run_ids)} backfill runs failed: {', '.join(failed[:5])}")
    click.echo(f"All {len(run_ids)} backfill runs succeeded.")


def _run_states(dag_id: str, run_ids: list[str]) -> dict[str, str]:
    with session_scope(readonly=True) as session:
        rows = session.execute(
            select(DagRun.run_id, DagRun.state).where(
                DagRun.dag_id == dag_id, DagRun.run_id.in_(run_ids)
            )
        )
        return dict(rows.all())


# --- delete ----------------------------------------------------------------------------------


@click.command("delete")
@click.argument("dag_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def delete_dag(dag_id: str, yes: bool) -> None:
    """Delete a DAG's rows: runs, task instances, tries, XComs and its stored structure.

    The DAG file is not touched: while it exists the DAG comes back, with no history, at
    the next scan (as in Airflow). Remove the file to delete the DAG for good.
    """
    with session_scope(readonly=True) as session:
        get_dag_model(session, dag_id)
        count = dag_ops.count_runs(session, dag_id)
    if not yes:  # asked outside any write transaction: the scheduler must not wait on a person
        click.confirm(f"Delete DAG {dag_id!r} and its {count} run(s)?", abort=True)
    with session_scope() as session:
        count = dag_ops.delete_dag(session, dag_id, actor=cli_user())
    click.echo(f"Deleted DAG {dag_id!r} and {count} run(s).")


RUN_COMMANDS: list[click.Command] = [trigger, list_runs, run_state, test, backfill, delete_dag]
