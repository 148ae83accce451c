"""`flowsched dags` run commands: trigger, list-runs, state, test, backfill, delete."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from flowsched.cli import cli
from flowsched.db import session_scope
from flowsched.db.tables import AuditLog, DagModel, DagRun, TaskInstance

FLOWSCHED = str(Path(sys.executable).parent / "flowsched")

DAGS = """
    import pendulum
    from flowsched import DAG, Param
    from flowsched.operators.bash import BashOperator
    from flowsched.operators.empty import EmptyOperator

    START = pendulum.datetime(2024, 1, 1)

    with DAG("hourly", schedule="0 * * * *", start_date=START,
             params={"n": Param(1, type="integer")}):
        EmptyOperator(task_id="only")

    with DAG("manual", schedule=None, start_date=START):
        first = BashOperator(task_id="first", bash_command="echo hello")
        first >> EmptyOperator(task_id="second")

    with DAG("broken", schedule=None, start_date=START):
        boom = BashOperator(task_id="boom", bash_command="echo about to fail; exit 1")
        boom >> EmptyOperator(task_id="after_boom")
"""


def flowsched(*args: str, input: str | None = None) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args), input=input)


def error_line(result: Result) -> str:
    """The one line a failed command prints."""
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    return line


def runs(dag_id: str) -> list[DagRun]:
    with session_scope(readonly=True) as session:
        found = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.logical_date)
        ).all()
        session.expunge_all()
        return list(found)


@pytest.fixture
def folder(migrated_db: Path, dags_folder: Path) -> Path:
    (dags_folder / "dags.py").write_text(textwrap.dedent(DAGS))
    return dags_folder


# --- trigger -------------------------------------------------------------------------------


def test_trigger_queues_a_manual_run_with_its_conf(folder: Path) -> None:
    result = flowsched("dags", "trigger", "hourly", "--conf", '{"n": 3}', "--run-id", "mine")
    assert result.exit_code == 0, result.output
    assert "Queued run mine of hourly" in result.stdout
    assert "paused" in result.stderr  # new DAGs are paused at creation
    [run] = runs("hourly")
    assert (run.run_id, run.run_type, run.state, run.conf) == ("mine", "manual", "queued", {"n": 3})
    assert run.data_interval_end is not None and run.data_interval_end <= run.logical_date
    with session_scope(readonly=True) as session:
        [entry] = session.scalars(select(AuditLog).where(AuditLog.event == "trigger")).all()
        assert (entry.dag_id, entry.run_id) == ("hourly", "mine")


def test_trigger_names_the_run_after_its_logical_date(folder: Path) -> None:
    result = flowsched("dags", "trigger", "manual", "--logical-date", "2024-05-01T10:00")
    assert result.exit_code == 0, result.output
    [run] = runs("manual")
    assert run.run_id == "manual__2024-05-01T10:00:00+00:00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--conf", "{bad"], "Error: --conf is not valid JSON"),
        (["--conf", "[" * 100_000 + "]" * 100_000], "Error: --conf is not valid JSON: nested"),
        (["--conf", "[1, 2]"], 'Error: conf must be a JSON object, e.g. {"x": 1}, not a list'),
        (["--conf", '{"n": "x"}'], "Error: conf does not fit the params of DAG 'hourly'"),
        (["--logical-date", "someday"], "Error: --logical-date 'someday' is not a date"),
    ],
)
def test_trigger_refuses_bad_input_in_one_line(folder: Path, args: list[str], message: str) -> None:
    assert error_line(flowsched("dags", "trigger", "hourly", *args)).startswith(message)
    assert runs("hourly") == []


def test_trigger_refuses_an_unknown_dag_and_a_taken_run_id(folder: Path) -> None:
    assert "no DAG named 'nope'" in error_line(flowsched("dags", "trigger", "nope"))
    assert flowsched("dags", "trigger", "manual", "--run-id", "x").exit_code == 0
    line = error_line(flowsched("dags", "trigger", "manual", "--run-id", "x"))
    assert "already has a run 'x'" in line


# --- list-runs / state ---------------------------------------------------------------------


def test_list_runs_and_state(folder: Path) -> None:
    flowsched("dags", "trigger", "manual", "--run-id", "a", "--logical-date", "2024-02-01")
    flowsched("dags", "trigger", "manual", "--run-id", "b", "--logical-date", "2024-03-01")
    result = flowsched("dags", "list-runs", "manual", "--output", "json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [row["run_id"] for row in listed] == ["b", "a"]  # newest first
    assert {row["state"] for row in listed} == {"queued"}
    assert flowsched("dags", "list-runs", "manual", "--state", "success", "-o", "json").stdout
    assert json.loads(flowsched("dags", "list-runs", "manual", "--state", "success",
                                "-o", "json").stdout) == []  # fmt: skip
    assert flowsched("dags", "state", "manual", "a").stdout.strip() == "queued"
    assert flowsched("dags", "state", "manual", "2024-03-01T00:00:00+00:00").stdout == "queued\n"
    assert "has no run 'zzz'" in error_line(flowsched("dags", "state", "manual", "zzz"))
    assert "no DAG named 'nope'" in error_line(flowsched("dags", "list-runs", "nope"))


# --- backfill ------------------------------------------------------------------------------


def test_backfill_dry_run_lists_the_intervals_and_creates_nothing(folder: Path) -> None:
    result = flowsched("dags", "backfill", "hourly", "-s", "2024-01-01T00:00", "-e",
                       "2024-01-01T03:00", "--dry-run", "-o", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    planned = json.loads(result.stdout)
    assert [row["logical_date"] for row in planned] == [
        f"2024-01-01T0{hour}:00:00+00:00" for hour in range(4)
    ]
    assert {row["action"] for row in planned} == {"would create"}
    assert runs("hourly") == []


def test_backfill_queues_runs_once(folder: Path) -> None:
    args = ["dags", "backfill", "hourly", "-s", "2024-01-01", "-e", "2024-01-01T02:00"]
    result = flowsched(*args, "--no-wait")
    assert result.exit_code == 0, result.output
    created = runs("hourly")
    assert [run.run_id for run in created] == [
        f"backfill__2024-01-01T0{hour}:00:00+00:00" for hour in range(3)
    ]
    assert {(run.run_type, run.state) for run in created} == {("backfill", "queued")}
    assert [r.data_interval_end.hour for r in created] == [1, 2, 3]
    again = json.loads(flowsched(*args, "--no-wait", "-o", "json").stdout)
    assert {row["action"] for row in again} == {"exists, left alone"}
    assert len(runs("hourly")) == 3


def test_backfill_without_a_scheduler_says_so_instead_of_waiting(folder: Path) -> None:
    result = flowsched("dags", "backfill", "hourly", "-s", "2024-01-01", "-e", "2024-01-01")
    assert result.exit_code == 0, result.output
    assert "No scheduler is running" in result.stderr


def test_backfill_refuses_what_cannot_be_backfilled(folder: Path) -> None:
    line = error_line(
        flowsched("dags", "backfill", "manual", "-s", "2024-01-01", "-e", "2024-01-02")
    )
    assert "schedule None: nothing to backfill" in line
    line = error_line(
        flowsched("dags", "backfill", "hourly", "-s", "2024-01-02", "-e", "2024-01-01")
    )
    assert "the end date is before the start date" in line


# --- delete --------------------------------------------------------------------------------


def test_delete_removes_the_dag_and_its_history(folder: Path) -> None:
    flowsched("dags", "trigger", "manual")
    assert flowsched("dags", "delete", "manual", input="n\n").exit_code == 1
    assert len(runs("manual")) == 1
    result = flowsched("dags", "delete", "manual", "--yes")
    assert result.exit_code == 0, result.output
    assert "Deleted DAG 'manual' and 1 run(s)" in result.stdout
    assert runs("manual") == []
    with session_scope(readonly=True) as session:
        assert session.get(DagModel, "manual") is None
    assert flowsched("dags", "list").exit_code == 0  # the file is still there: it comes back
    with session_scope(readonly=True) as session:
        assert session.get(DagModel, "manual") is not None
    assert runs("manual") == []
    assert "no DAG named 'gone'" in error_line(flowsched("dags", "delete", "gone", "--yes"))


# --- test ----------------------------------------------------------------------------------


def dags_test(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLOWSCHED, "dags", "test", *args], capture_output=True, text=True, timeout=120
    )


def test_dags_test_runs_the_whole_dag_here(folder: Path) -> None:
    result = dags_test("manual", "2024-06-01")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "first: success" in result.stdout and "second: success" in result.stdout
    assert "Run test__2024-06-01T00:00:00+00:00: success" in result.stdout
    [run] = runs("manual")
    assert (run.run_type, run.state) == ("test", "success")
    again = dags_test("manual", "2024-06-01")  # replaces its own earlier test run
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(runs("manual")) == 1


def test_dags_test_exits_1_when_the_run_fails(folder: Path) -> None:
    result = dags_test("broken")
    assert result.returncode == 1
    assert "boom: failed" in result.stdout and "after_boom: upstream_failed" in result.stdout
    with session_scope(readonly=True) as session:
        states = dict(session.execute(select(TaskInstance.task_id, TaskInstance.state)).all())
    assert states == {"boom": "failed", "after_boom": "upstream_failed"}


def test_dags_test_prints_the_log_of_a_failed_try_with_its_traceback(folder: Path) -> None:
    result = dags_test("broken")
    log = result.stdout.split("----- boom, try 1 (failed): log -----", 1)[1]
    assert "about to fail" in log
    assert "Traceback (most recent call last)" in log
    assert "non-zero exit code 1" in log
    assert log.index("non-zero exit code 1") < result.stdout.index("Run test__")


def test_dag_test_in_a_dag_file_run_as_a_script_runs_the_dag_like_dags_test(
    folder: Path,
) -> None:
    script = folder / "scripted.py"
    script.write_text(
        textwrap.dedent(
            """
            import pendulum
            from flowsched.models.dag import DAG
            from flowsched.operators.bash import BashOperator

            with DAG("scripted", schedule=None, start_date=pendulum.datetime(2024, 1, 1)) as dag:
                BashOperator(task_id="hello", bash_command="echo {{ params.who }}")

            if __name__ == "__main__":
                print("final state:", dag.test(run_conf={"who": "you"}))
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hello: success" in result.stdout
    assert result.stdout.rstrip().endswith("final state: success")
    [run] = runs("scripted")
    assert (run.run_type, run.state, run.conf) == ("test", "success", {"who": "you"})
