"""`flowsched tasks failed-deps`: why a task instance would not start now, as Airflow prints it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from flowsched.cli import cli
from flowsched.db import session_scope
from flowsched.db.tables import utcnow
from flowsched.scheduling import runs
from flowsched.scheduling.dagstore import DagStore
from tests.runner.support import write_dag

DAG_FILE = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.empty import EmptyOperator

    with DAG("etl", schedule="@daily", start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
        EmptyOperator(task_id="extract") >> EmptyOperator(task_id="load")
"""


def flowsched(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def triggered(migrated_db: Path, dags_folder: Path) -> None:
    """A run of the (paused) DAG "etl" triggered for 2024-03-01, not started yet."""
    write_dag(dags_folder, "etl", DAG_FILE)
    result = flowsched("dags", "trigger", "etl", "-r", "nightly", "-e", "2024-03-01T00:00:00+00:00")
    assert result.exit_code == 0, result.output


def test_a_paused_dags_fresh_run_names_each_unmet_dependency(triggered):
    result = flowsched("tasks", "failed-deps", "etl", "extract", "nightly")

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Task instance dependencies not met:",
        "Dagrun Running: Task instance's dagrun was not in the 'running' state but in the "
        "state 'queued'.",
        "Dag Not Paused: Task's DAG 'etl' is paused.",
        "Task Instance Exists: The scheduler has not created this task instance yet: it does "
        "when it examines the run.",
    ]


def test_once_running_a_root_is_ready_and_its_downstream_waits_for_it(triggered):
    assert flowsched("dags", "unpause", "etl").exit_code == 0
    with session_scope() as session:
        runs.start_queued_runs(session, DagStore(), utcnow())

    ready = flowsched("tasks", "failed-deps", "etl", "extract", "2024-03-01")  # by logical date
    waiting = flowsched("tasks", "failed-deps", "etl", "load", "nightly")

    assert ready.output == "Task instance dependencies are all met.\n"
    assert waiting.output.splitlines() == [
        "Task instance dependencies not met:",
        "Trigger Rule: Task's trigger rule 'all_success' is not met yet; upstream states: "
        "extract=scheduled",
    ]


def test_unknown_names_are_one_error_line(triggered):
    no_task = flowsched("tasks", "failed-deps", "etl", "nope", "nightly")
    no_run = flowsched("tasks", "failed-deps", "etl", "load", "someday")

    assert no_task.exit_code == 1
    assert "DAG 'etl' has no task 'nope'" in no_task.output
    assert no_run.exit_code == 1
    assert "DAG 'etl' has no run 'someday'" in no_run.output
