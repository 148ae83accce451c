"""Deferrable tasks: a deferral frees the worker slot (up_for_reschedule until the trigger's
next check), and the same try resumes in the named method once the trigger fired."""

import json
import time
from datetime import UTC, datetime, timedelta

from tests.runner.support import (
    create_run,
    queue_ti,
    read_log,
    run_state,
    ti,
    write_dag,
    xcom_values,
)

DAG_FILE = """
    from datetime import timedelta
    import pendulum
    from flowsched import DAG
    from flowsched.authoring.baseoperator import BaseOperator
    from flowsched.sensors.base import BaseSensorOperator
    from flowsched.triggers.temporal import DateTimeTrigger

    MOMENT = pendulum.parse("{moment}")

    class WaitThenReport(BaseOperator):
        def execute(self, context):
            self.defer(
                trigger=DateTimeTrigger(MOMENT),
                method_name="report",
                kwargs={"label": "resumed"},
                timeout={timeout},
            )

        def report(self, context, label, event):
            return {"label": label, "event": event.isoformat()}

    class NeverFires(BaseSensorOperator):
        def execute(self, context):
            self.defer(trigger=DateTimeTrigger(MOMENT), method_name="poke", timeout={timeout})

    def starting(context):
        print("on_execute_callback ran")

    with DAG("deferring", start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
        WaitThenReport(task_id="wait", on_execute_callback=starting)
        NeverFires(task_id="sensor", soft_fail=True)
"""


def deferring_dag(dags_folder, moment: datetime, timeout: str = "None") -> str:
    source = DAG_FILE.replace("{moment}", moment.isoformat()).replace("{timeout}", timeout)
    return write_dag(dags_folder, "deferring", source)


def test_a_deferred_try_waits_without_a_worker_and_resumes_with_the_event(dags_folder):
    moment = datetime.now(UTC) + timedelta(seconds=2)
    path = deferring_dag(dags_folder, moment)
    create_run("deferring")
    key = queue_ti("deferring", "wait")

    assert run_state(path, key) == "up_for_reschedule"
    row = ti(key)
    assert row.next_try_at == moment  # the scheduler wakes it when the trigger can fire
    assert row.deferral["method"] == "report" and row.deferral["try_number"] == 1

    queue_ti("deferring", "wait")  # checked too early: it only polls, and waits again
    assert run_state(path, key) == "up_for_reschedule"

    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.1)
    queue_ti("deferring", "wait")
    assert run_state(path, key) == "success"
    result = json.loads(xcom_values("deferring", "wait")[(-1, "return_value")])
    assert result == {"label": "resumed", "event": moment.isoformat()}
    assert ti(key).try_number == 1  # one try throughout, as Airflow's deferral
    log = read_log(key)
    assert "Trigger fired: resuming in report" in log
    # started, then resumed; the early check in between was not an execution
    assert log.count("on_execute_callback ran") == 2


def test_a_deferral_past_its_timeout_fails_and_a_soft_fail_sensor_skips(dags_folder):
    path = deferring_dag(
        dags_folder, datetime.now(UTC) + timedelta(hours=1), "timedelta(seconds=0.3)"
    )
    create_run("deferring")
    wait = queue_ti("deferring", "wait")
    sensor = queue_ti("deferring", "sensor")
    assert run_state(path, wait) == run_state(path, sensor) == "up_for_reschedule"

    time.sleep(0.4)
    queue_ti("deferring", "wait")
    queue_ti("deferring", "sensor")
    assert run_state(path, wait) == "failed"
    assert "Trigger/execution timeout" in read_log(wait)
    assert run_state(path, sensor) == "skipped"


def test_a_new_try_starts_over_instead_of_resuming(dags_folder):
    path = deferring_dag(dags_folder, datetime.now(UTC) - timedelta(seconds=1))
    create_run("deferring")
    key = queue_ti("deferring", "wait")
    assert run_state(path, key) == "up_for_reschedule"

    second = queue_ti("deferring", "wait", try_number=2)
    assert run_state(path, second) == "up_for_reschedule"  # executed again: deferred again
    assert ti(second).deferral["try_number"] == 2
