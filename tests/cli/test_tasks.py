"""`flowsched tasks`: run a queued try, try a task out, read a try's log."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from flowsched.cli import cli
from tests.runner.support import RUN_ID, create_run, queue_ti, read_log, ti, write_dag, xcom_values

REPORT_DAG = """
    import pendulum
    from flowsched import DAG, task
    from flowsched.operators.bash import BashOperator

    with DAG("report", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), schedule="@daily",
             params={"region": "eu"}) as dag:
        @task
        def count(ds=None, params=None):
            print(f"counting {params['region']} rows of {ds}")
            return 42

        @task
        def broken():
            raise ValueError("bad row 17")

        BashOperator(task_id="shout", bash_command="echo rendered {{ ds_nodash }}")
        count(); broken()
"""


def flowsched(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def report(migrated_db: Path, dags_folder: Path) -> str:
    return write_dag(dags_folder, "report", REPORT_DAG)


def test_tasks_test_runs_a_task_here_and_prints_its_log(report):
    result = flowsched("tasks", "test", "report", "count", "2024-05-06")

    assert result.exit_code == 0, result.output
    assert "stdout: counting eu rows of 2024-05-06" in result.output
    assert "Task 'count' ended: success" in result.output
    assert "Returned: 42" in result.output
    assert xcom_values("report", "count", run_id="test__2024-05-06T00:00:00+00:00") == {}


def test_tasks_test_renders_templates_for_the_date(report):
    result = flowsched("tasks", "test", "report", "shout", "2024-05-06")

    assert result.exit_code == 0, result.output
    assert "rendered 20240506" in result.output


def test_tasks_test_of_a_failing_task_exits_1_with_the_error(report):
    result = flowsched("tasks", "test", "report", "broken", "2024-05-06")

    assert result.exit_code == 1
    assert "ValueError: bad row 17" in result.output  # the traceback, in the log
    assert result.output.rstrip().endswith("Error: task 'broken' failed: ValueError: bad row 17")


def test_tasks_test_names_what_it_cannot_find(report):
    assert "no DAG named 'nope'" in flowsched("tasks", "test", "nope", "count").output
    assert "DAG 'report' has no task 'nope'" in flowsched("tasks", "test", "report", "nope").output
    assert "is not a date" in flowsched("tasks", "test", "report", "count", "someday").output


def test_tasks_run_runs_a_queued_try_like_a_worker(report):
    flowsched("dags", "list")  # the scheduler would have parsed the file
    create_run("report")
    key = queue_ti("report", "count")

    result = flowsched("tasks", "run", "report", "count", RUN_ID)

    assert result.exit_code == 0, result.output
    assert result.output == f"{key}: success\n"
    assert ti(key).state == "success"
    assert "counting eu rows of 2024-03-01" in read_log(key)


def test_tasks_run_refuses_a_try_that_is_not_queued(report):
    flowsched("dags", "list")
    create_run("report")
    queue_ti("report", "count", state="success")

    result = flowsched("tasks", "run", "report", "count", RUN_ID)

    assert result.exit_code == 1
    assert "is not queued (state success, try 1); nothing to run" in result.output


def test_tasks_logs_prints_the_log_of_a_try(report):
    flowsched("dags", "list")
    create_run("report")
    first = queue_ti("report", "broken", try_number=1)
    flowsched("tasks", "run", "report", "broken", RUN_ID)
    second = queue_ti("report", "broken", try_number=2)
    flowsched("tasks", "run", "report", "broken", RUN_ID)

    latest = flowsched("tasks", "logs", "report", "broken", RUN_ID)
    earlier = flowsched("tasks", "logs", "report", "broken", RUN_ID, "--try", "1")
    followed = flowsched("tasks", "logs", "report", "broken", RUN_ID, "--follow")

    assert latest.output == read_log(second)
    assert earlier.output == read_log(first)
    assert "try 1" in earlier.output and "try 2" in latest.output
    assert followed.output == latest.output  # the try is over: follow prints it and stops


def test_tasks_logs_says_when_there_is_no_such_try(report):
    flowsched("dags", "list")
    create_run("report")
    queue_ti("report", "count")

    too_far = flowsched("tasks", "logs", "report", "count", RUN_ID, "--try", "3")
    assert "report.count has had 1 tries in run" in too_far.output
    assert "no log for" in flowsched("tasks", "logs", "report", "count", RUN_ID).output
    missing = flowsched("tasks", "logs", "report", "count", "no_such_run")
    assert "no task instance report.count in run 'no_such_run'" in missing.output


@pytest.mark.parametrize("command", [["run"], ["test"], ["state"]])
def test_a_map_index_below_minus_1_or_past_32_bits_is_one_clear_line(report, command):
    for wrong in ("-5", str(2**63)):
        result = flowsched("tasks", *command, "report", "count", "2024-05-06", "--map-index", wrong)
        assert result.exit_code == 2
        assert f"Invalid value for '--map-index': {wrong} is not in the range" in result.output


DEFERRING_DAG = """
    from datetime import timedelta
    import pendulum
    from flowsched import DAG
    from flowsched.sensors.date_time import DateTimeSensorAsync

    with DAG("deferring", start_date=pendulum.datetime(2024, 1, 1, tz="UTC")):
        DateTimeSensorAsync(
            task_id="wait", target_time="{{ data_interval_end + macros.timedelta(seconds=1) }}"
        )
"""


def test_tasks_test_waits_for_a_deferred_task_s_trigger_in_line(migrated_db, dags_folder):
    write_dag(dags_folder, "deferring", DEFERRING_DAG)
    result = flowsched("tasks", "test", "deferring", "wait")

    assert result.exit_code == 0, result.output
    assert "[TASK TEST] waiting" in result.output
    assert "Trigger fired: resuming in execute_complete" in result.output
    assert "Task 'wait' ended: success" in result.output
