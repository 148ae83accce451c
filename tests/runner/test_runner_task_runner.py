"""One try, run as a worker runs it: from a real DAG file, against real rows."""

import json
from datetime import UTC, datetime, timedelta

from flowsched.db.tables import Variable
from flowsched.task_logs import log_path
from flowsched.tries import TaskKey
from tests.runner.support import (
    LOGICAL_DATE,
    RUN_ID,
    create_run,
    history,
    queue_ti,
    read_log,
    run_state,
    ti,
    write_dag,
    xcom_values,
)

HEADER = """
    import pendulum
    from flowsched import DAG, task
    from flowsched.operators.bash import BashOperator
    from flowsched.operators.python import BranchPythonOperator, PythonOperator
    from flowsched.operators.empty import EmptyOperator
    from flowsched.exceptions import TaskSkipped, RescheduleTask
    START = pendulum.datetime(2024, 1, 1, tz="UTC")
"""


def dag_file(dags_folder, dag_id, body):
    """A DAG file whose tasks are ``body``, inside ``with DAG(dag_id) as dag:``."""
    indented = "\n".join("        " + line for line in body.strip("\n").splitlines())
    source = f"{HEADER}\n    with DAG({dag_id!r}, start_date=START, params={{'x': 1}}) as dag:\n"
    return write_dag(dags_folder, dag_id, source + indented + "\n")


def test_a_successful_try_stores_its_return_value_and_its_history(dags_folder):
    path = dag_file(
        dags_folder,
        "hello",
        """
@task
def greet():
    print("hello, world")
    return {"greeting": "hello", "n": 3}
greet()
""",
    )
    create_run("hello")
    key = queue_ti("hello", "greet")

    assert run_state(path, key) == "success"

    row = ti(key)
    assert row.state == "success"
    assert row.start_date <= row.end_date and row.duration is not None
    assert row.hostname and row.pid and row.executor == "test"
    assert json.loads(xcom_values("hello", "greet")[(-1, "return_value")]) == {
        "greeting": "hello",
        "n": 3,
    }
    [attempt] = history(key)
    assert (attempt.try_number, attempt.state, attempt.end_date) == (1, "success", row.end_date)
    log = read_log(key)
    assert "stdout: hello, world" in log
    assert "Marking task as SUCCESS" in log


def test_a_downstream_taskflow_task_receives_the_upstream_return_value(dags_folder):
    path = dag_file(
        dags_folder,
        "flow",
        """
@task
def extract():
    return [1, 2, 3]
@task
def total(numbers):
    print("total is", sum(numbers))
    return sum(numbers)
total(extract())
""",
    )
    create_run("flow")
    assert run_state(path, queue_ti("flow", "extract")) == "success"
    key = queue_ti("flow", "total")

    assert run_state(path, key) == "success"

    assert "total is 6" in read_log(key)
    assert xcom_values("flow", "total")[(-1, "return_value")] == "6"


def test_templates_are_rendered_into_the_log_and_the_rendered_fields(dags_folder):
    path = dag_file(
        dags_folder,
        "templated",
        """
BashOperator(
    task_id="say",
    bash_command="echo day={{ ds }} x={{ params.x }} try={{ ti.try_number }}",
)
""",
    )
    create_run("templated", conf={"x": 42})
    key = queue_ti("templated", "say", try_number=3, max_tries=5)

    assert run_state(path, key) == "success"

    assert "day=2024-03-01 x=42 try=3" in read_log(key)
    rendered = ti(key).rendered_fields
    assert rendered["bash_command"] == "echo day=2024-03-01 x=42 try=3"


def test_a_return_value_that_is_not_json_fails_the_try_saying_why(dags_folder):
    path = dag_file(
        dags_folder,
        "bad_xcom",
        """
@task
def make_set():
    return {1, 2}
make_set()
""",
    )
    create_run("bad_xcom")
    key = queue_ti("bad_xcom", "make_set")

    assert run_state(path, key) == "failed"

    assert "Task 'make_set' returned a value containing a 'set'" in read_log(key)
    assert "XComNotSerializable" in history(key)[0].error
    assert xcom_values("bad_xcom", "make_set") == {}


def test_task_skipped_and_bash_exit_99_end_as_skipped(dags_folder):
    path = dag_file(
        dags_folder,
        "skips",
        """
@task
def nothing_to_do():
    raise TaskSkipped("no new files")
nothing_to_do()
BashOperator(task_id="bash_skip", bash_command="exit 99")
""",
    )
    create_run("skips")

    for task_id in ("nothing_to_do", "bash_skip"):
        key = queue_ti("skips", task_id)
        assert run_state(path, key) == "skipped"
        assert ti(key).state == "skipped"
    assert "no new files" in read_log(TaskKey("skips", RUN_ID, "nothing_to_do", -1, 1))


def test_a_branch_skips_the_downstream_tasks_it_did_not_choose(dags_folder):
    path = dag_file(
        dags_folder,
        "branching",
        """
pick = BranchPythonOperator(task_id="pick", python_callable=lambda: "weekday")
pick >> [EmptyOperator(task_id="weekday"), EmptyOperator(task_id="weekend")]
""",
    )
    create_run("branching")
    queue_ti("branching", "weekday", state=None, try_number=0)  # weekend has no row yet

    assert run_state(path, queue_ti("branching", "pick")) == "success"

    assert ti(TaskKey("branching", RUN_ID, "weekend", -1, 0)).state == "skipped"
    assert ti(TaskKey("branching", RUN_ID, "weekday", -1, 0)).state is None


def test_a_try_runs_only_if_its_task_instance_is_queued_for_that_try(dags_folder):
    path = dag_file(
        dags_folder,
        "guarded",
        """
@task
def once():
    print("ran")
once()
""",
    )
    create_run("guarded")
    running = queue_ti("guarded", "once", state="running")
    assert run_state(path, running) is None
    assert ti(running).state == "running"

    queue_ti("guarded", "once", try_number=2)
    stale = TaskKey("guarded", RUN_ID, "once", -1, 1)  # the scheduler moved on to try 2
    assert run_state(path, stale) is None
    assert ti(stale).state == "queued"
    assert not log_path(*stale).exists()


def test_a_mapped_instance_runs_with_its_own_element(dags_folder):
    path = dag_file(
        dags_folder,
        "mapped",
        """
@task
def cities():
    return ["Oslo", "Lima"]
@task
def greet(city, greeting):
    return f"{greeting}, {city}"
greet.expand(city=cities(), greeting=["hi", "bye"])
""",
    )
    create_run("mapped")
    assert run_state(path, queue_ti("mapped", "cities")) == "success"

    # the product of the inputs, argument names sorted, the last varying fastest
    for index, expected in enumerate(["hi, Oslo", "bye, Oslo", "hi, Lima", "bye, Lima"]):
        key = queue_ti("mapped", "greet", map_index=index)
        assert run_state(path, key) == "success"
        assert json.loads(xcom_values("mapped", "greet")[(index, "return_value")]) == expected


def test_log_files_are_laid_out_by_dag_run_task_map_index_and_attempt(home):
    logs = home / "logs"
    assert log_path("etl", RUN_ID, "load", -1, 2) == (
        logs / "dag_id=etl" / f"run_id={RUN_ID}" / "task_id=load" / "attempt=2.log"
    )
    assert log_path("etl", RUN_ID, "load", 7, 1) == (
        logs / "dag_id=etl" / f"run_id={RUN_ID}" / "task_id=load" / "map_index=7" / "attempt=1.log"
    )


def test_secrets_read_by_a_task_are_masked_in_its_log(dags_folder, monkeypatch):
    Variable.set("db_password", "hunter2-secret")
    monkeypatch.setenv("FLOWSCHED_CONN_WAREHOUSE", "postgres://loader:s3cr3t-pw@db.example:5432/dw")
    path = dag_file(
        dags_folder,
        "secrets",
        """
BashOperator(task_id="echo_var", bash_command="echo password is {{ var.value.db_password }}")
@task
def show_conn():
    from flowsched.db.tables import Connection
    conn = Connection.get_connection_from_secrets("warehouse")
    print("connecting with", conn.password, "to", conn.host)
show_conn()
""",
    )
    create_run("secrets")
    var_key, conn_key = queue_ti("secrets", "echo_var"), queue_ti("secrets", "show_conn")

    assert run_state(path, var_key) == "success"
    assert run_state(path, conn_key) == "success"

    assert "password is ***" in read_log(var_key)
    assert "hunter2-secret" not in read_log(var_key)
    assert "echo password is ***" in ti(var_key).rendered_fields["bash_command"]
    assert "connecting with *** to db.example" in read_log(conn_key)


def test_callbacks_get_the_context_and_a_failing_one_is_only_logged(dags_folder, tmp_path):
    notes = tmp_path / "notes"
    path = dag_file(
        dags_folder,
        "callbacks",
        f"""
def broken(context):
    raise RuntimeError("callback exploded")
def note(context):
    with open({str(notes)!r}, "a") as file:
        file.write(f"{{context['ti'].state}} {{context['ds']}} {{context.get('exception')}}\\n")
@task(on_failure_callback=broken)
def fails():
    raise ValueError("task exploded")
@task(retries=1, on_retry_callback=note, on_failure_callback=note)
def flaky():
    raise ValueError("try again")
@task(on_success_callback=note)
def works():
    return 1
fails(); flaky(); works()
""",
    )
    create_run("callbacks")
    failing = queue_ti("callbacks", "fails")

    assert run_state(path, failing) == "failed"
    assert run_state(path, queue_ti("callbacks", "flaky", max_tries=1)) == "up_for_retry"
    assert run_state(path, queue_ti("callbacks", "works")) == "success"

    log = read_log(failing)
    assert "ValueError: task exploded" in log
    assert "on_failure callback broken failed" in log
    assert "RuntimeError: callback exploded" in log
    assert ti(failing).state == "failed"
    assert notes.read_text().splitlines() == [
        "up_for_retry 2024-03-01 try again",
        "success 2024-03-01 None",
    ]


def test_a_rescheduled_sensor_keeps_its_first_start_date(dags_folder):
    path = dag_file(
        dags_folder,
        "sensing",
        """
from datetime import datetime, timedelta, timezone
@task
def wait_for_file():
    raise RescheduleTask(datetime.now(timezone.utc) + timedelta(minutes=5))
wait_for_file()
""",
    )
    create_run("sensing")
    key = queue_ti("sensing", "wait_for_file")

    assert run_state(path, key) == "up_for_reschedule"
    first = ti(key)
    assert first.next_try_at > datetime.now(UTC) + timedelta(minutes=4)

    queue_ti("sensing", "wait_for_file")  # the scheduler re-queues the same try
    assert run_state(path, key) == "up_for_reschedule"
    assert ti(key).start_date == first.start_date
    assert len(history(key)) == 1
    assert read_log(key).count("Rescheduling task") == 2


def test_the_context_sees_the_run_and_its_previous_successful_run(dags_folder, tmp_path):
    out = tmp_path / "context.json"
    path = dag_file(
        dags_folder,
        "ctx",
        f"""
import json
@task
def dump(ds, run_id, dag_run, prev_data_interval_start_success, params):
    data = dict(ds=ds, run_id=run_id, conf=dag_run.conf, params=params,
                prev=prev_data_interval_start_success.isoformat())
    open({str(out)!r}, "w").write(json.dumps(data))
dump()
""",
    )
    earlier = LOGICAL_DATE - timedelta(days=1)
    create_run("ctx", run_id="scheduled__earlier", logical_date=earlier, state="success")
    create_run("ctx", conf={"x": 7, "extra": "y"})

    assert run_state(path, queue_ti("ctx", "dump")) == "success"

    assert json.loads(out.read_text()) == {
        "ds": "2024-03-01",
        "run_id": RUN_ID,
        "conf": {"x": 7, "extra": "y"},
        "params": {"x": 7, "extra": "y"},
        "prev": earlier.isoformat(),
    }
