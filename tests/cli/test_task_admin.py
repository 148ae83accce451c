"""`flowsched tasks` list, state and clear, on runs made by `flowsched dags test`."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from flowsched.cli import cli
from flowsched.db import session_scope
from flowsched.db.tables import DagRun, TaskInstance, TaskInstanceHistory

FLOWSCHED = str(Path(sys.executable).parent / "flowsched")

DAGS = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.bash import BashOperator
    from flowsched.operators.empty import EmptyOperator

    with DAG("pipeline", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        extract = EmptyOperator(task_id="extract")
        boom = BashOperator(task_id="boom", bash_command="exit 1", retries=2, retry_delay=0)
        load = EmptyOperator(task_id="load")
        fanned = BashOperator.partial(task_id="fanned").expand(bash_command=["true", "true"])
        extract >> boom >> load
        extract >> fanned
"""
RUN = "test__2024-01-01T00:00:00+00:00"


def flowsched(*args: str, input: str | None = None) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args), input=input)


def error_line(result: Result) -> str:
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    return line


def instances() -> dict[str, tuple[str | None, int]]:
    """``task_id`` (``task_id[i]`` when mapped) -> (state, try_number)."""
    with session_scope(readonly=True) as session:
        return {
            (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): (
                ti.state,
                ti.try_number,
            )
            for ti in session.scalars(select(TaskInstance))
        }


@pytest.fixture
def ran(migrated_db: Path, dags_folder: Path) -> str:
    """One finished (failed) run of the pipeline, made by `dags test`."""
    (dags_folder / "pipeline.py").write_text(textwrap.dedent(DAGS))
    result = subprocess.run(
        [FLOWSCHED, "dags", "test", "pipeline", "2024-01-01"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    return RUN


def test_tasks_list_plain_and_as_a_tree(migrated_db: Path, dags_folder: Path) -> None:
    (dags_folder / "pipeline.py").write_text(textwrap.dedent(DAGS))
    assert flowsched("tasks", "list", "pipeline").stdout.split() == [
        "extract", "boom", "load", "fanned",
    ]  # fmt: skip
    tree = flowsched("tasks", "list", "pipeline", "--tree").stdout.splitlines()
    assert tree[0].startswith("extract")
    assert any("└── load" in line for line in tree)
    assert "no DAG named 'nope'" in error_line(flowsched("tasks", "list", "nope"))


def test_tasks_state(ran: str) -> None:
    assert flowsched("tasks", "state", "pipeline", "extract", ran).stdout == "success\n"
    assert flowsched("tasks", "state", "pipeline", "load", ran).stdout == "upstream_failed\n"
    assert flowsched("tasks", "state", "pipeline", "fanned", ran).stdout == "0 success\n1 success\n"
    result = flowsched("tasks", "state", "pipeline", "fanned", ran, "--map-index", "1")
    assert result.stdout == "success\n"
    assert "has no task 'nope'" in error_line(flowsched("tasks", "state", "pipeline", "nope", ran))
    assert "has no run 'other'" in error_line(
        flowsched("tasks", "state", "pipeline", "boom", "other")
    )


def test_tasks_state_of_a_paused_dags_fresh_run_is_none_as_in_airflow(
    migrated_db: Path, dags_folder: Path
) -> None:
    (dags_folder / "pipeline.py").write_text(textwrap.dedent(DAGS))
    assert flowsched("dags", "trigger", "pipeline", "--run-id", "fresh").exit_code == 0

    result = flowsched("tasks", "state", "pipeline", "extract", "fresh")

    assert (result.exit_code, result.stdout) == (0, "None\n")


def test_clear_with_downstream_resets_for_a_new_try_and_keeps_history(ran: str) -> None:
    assert instances()["boom"] == ("failed", 3)
    assert flowsched("tasks", "clear", "pipeline", "-t", "^boom$", "-d", input="n\n").exit_code == 1
    assert instances()["boom"] == ("failed", 3)  # not confirmed: nothing changed
    result = flowsched("tasks", "clear", "pipeline", "-t", "^boom$", "--downstream", "--yes")
    assert result.exit_code == 0, result.output
    assert "Cleared 2 task instance(s)." in result.stdout
    after = instances()
    assert after["boom"] == (None, 3)  # try_number kept: the next dispatch makes it 4
    assert after["load"] == (None, 0)
    assert after["extract"] == ("success", 1)
    with session_scope(readonly=True) as session:
        assert session.scalar(select(DagRun.state)) == "queued"
        tries = session.scalars(
            select(TaskInstanceHistory.try_number).where(TaskInstanceHistory.task_id == "boom")
        ).all()
        boom = session.scalars(select(TaskInstance).where(TaskInstance.task_id == "boom")).one()
        assert boom.max_tries == 3 + 2  # its retries again
    assert sorted(tries) == [1, 2, 3]


def test_clear_only_failed(ran: str) -> None:
    result = flowsched("tasks", "clear", "pipeline", "--only-failed", "--yes")
    assert result.exit_code == 0, result.output
    after = instances()
    assert after["boom"][0] is None and after["load"][0] is None
    assert after["extract"][0] == "success" and after["fanned[0]"][0] == "success"


def test_clear_with_upstream_and_a_run_selection(ran: str) -> None:
    result = flowsched("tasks", "clear", "pipeline", "-t", "load", "-u", "--run-id", ran, "-y")
    assert result.exit_code == 0, result.output
    assert {task for task, (state, _) in instances().items() if state is None} == {
        "extract", "boom", "load",
    }  # fmt: skip
    nothing = flowsched("tasks", "clear", "pipeline", "-s", "2030-01-01", "--yes")
    assert nothing.stdout.strip() == "No task instance to clear."


def test_clear_refuses_bad_selections(ran: str) -> None:
    assert "matches 'zzz'" in error_line(flowsched("tasks", "clear", "pipeline", "-t", "zzz"))
    assert "not a valid regular expression" in error_line(
        flowsched("tasks", "clear", "pipeline", "-t", "(")
    )
    assert "no DAG named 'nope'" in error_line(flowsched("tasks", "clear", "nope", "--yes"))
