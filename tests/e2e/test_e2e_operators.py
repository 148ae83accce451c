"""Airflow's core operators under the real scheduler: ExternalTaskSensor across two DAGs on
different schedules, ExternalTaskMarker clearing, LatestOnly in a catch-up, a deferred
sensor that frees its pool slot, TriggerDagRun waiting for the run it triggered."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from flowsched.db import session_scope
from flowsched.db.tables import TaskInstance
from flowsched.operations.users import create_user
from tests.e2e.support import (
    Scheduler,
    flowsched,
    runs_of,
    tis_of,
    wait_for,
    wait_for_dag,
    write_dag,
)
from tests.webui.seed import PASSWORD, log_in
from webui.app import create_app

pytestmark = pytest.mark.e2e

PRODUCER = """
    from datetime import timedelta
    import pendulum
    from flowsched import DAG
    from flowsched.operators.bash import BashOperator
    from flowsched.sensors.external_task import ExternalTaskMarker

    with DAG(
        "producer",
        schedule=timedelta(hours=1),
        start_date=pendulum.datetime(2024, 1, 1),
        end_date=pendulum.datetime(2024, 1, 1, 3),
        catchup=True,
    ):
        extract = BashOperator(task_id="extract", bash_command="sleep 1")
        extract >> ExternalTaskMarker(
            task_id="mark", external_dag_id="consumer", external_task_id="wait"
        )
"""

# Every two hours, it needs the producer's two hourly runs of its interval.
CONSUMER = """
    from datetime import timedelta
    import pendulum
    from flowsched import DAG
    from flowsched.operators.bash import BashOperator
    from flowsched.sensors.external_task import ExternalTaskSensor

    with DAG(
        "consumer",
        schedule=timedelta(hours=2),
        start_date=pendulum.datetime(2024, 1, 1),
        end_date=pendulum.datetime(2024, 1, 1, 2),
        catchup=True,
    ):
        wait = ExternalTaskSensor(
            task_id="wait",
            external_dag_id="producer",
            external_task_id="extract",
            execution_date_fn=lambda logical_date: [logical_date, logical_date.add(hours=1)],
            mode="reschedule",
            poke_interval=0.5,
            timeout=300,
        )
        wait >> BashOperator(task_id="report", bash_command="true")
"""

LATEST = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.empty import EmptyOperator
    from flowsched.operators.latest_only import LatestOnlyOperator

    with DAG(
        "latest",
        schedule="@daily",
        start_date=pendulum.today("UTC").subtract(days=3),
        catchup=True,
    ):
        LatestOnlyOperator(task_id="latest_only") >> EmptyOperator(task_id="work")
"""


def states_by_run(dag_id: str) -> dict[str, dict[str, tuple[str | None, int]]]:
    """run_id -> task_id -> (state, try_number)."""
    found: dict[str, dict[str, tuple[str | None, int]]] = {}
    for ti in tis_of(dag_id):
        found.setdefault(ti.run_id, {})[ti.task_id] = (ti.state, ti.try_number)
    return found


def all_runs_ended(dag_id: str, count: int) -> bool:
    runs = runs_of(dag_id)
    return len(runs) >= count and all(run.state in ("success", "failed") for run in runs)


def test_cross_dag_sensor_marker_clearing_and_latest_only_in_a_catch_up(
    scheduler: Scheduler, dags_folder: Path
) -> None:
    write_dag(dags_folder, "producer", PRODUCER)
    write_dag(dags_folder, "consumer", CONSUMER)
    write_dag(dags_folder, "latest", LATEST)
    scheduler.start()
    wait_for(lambda: all_runs_ended("consumer", 2), "the consumer's two runs to end", 180)
    wait_for(lambda: all_runs_ended("producer", 4), "the producer's four runs to end")
    wait_for(lambda: all_runs_ended("latest", 3), "the latest-only catch-up to end")

    # The sensor waited for the producer's runs at its own logical date and an hour later.
    extract_end = {ti.run_id: ti.end_date for ti in tis_of("producer") if ti.task_id == "extract"}
    producer_runs = {run.logical_date: run.run_id for run in runs_of("producer")}
    for run in runs_of("consumer"):
        assert run.state == "success"
        (wait,) = [
            ti for ti in tis_of("consumer") if ti.run_id == run.run_id and ti.task_id == "wait"
        ]
        awaited = [
            producer_runs[run.logical_date],
            producer_runs[run.logical_date + timedelta(hours=1)],
        ]
        assert wait.end_date >= max(extract_end[run_id] for run_id in awaited)

    # LatestOnly: only the run of the latest interval does its work.
    latest_runs = runs_of("latest")
    work = {run_id: tasks["work"][0] for run_id, tasks in states_by_run("latest").items()}
    assert [work[run.run_id] for run in latest_runs] == ["skipped"] * (len(latest_runs) - 1) + [
        "success"
    ]

    # Clearing the producer's 00:00 extract with downstream reaches its marker, which clears
    # the consumer's sensor (and its downstream) at 00:00 -- not the consumer's 02:00 run.
    first_producer_run, first_consumer, second_consumer = (
        runs_of("producer")[0].run_id,
        runs_of("consumer")[0].run_id,
        runs_of("consumer")[1].run_id,
    )
    flowsched("tasks", "clear", "producer", "-t", "^extract$", "--run-id", first_producer_run,
              "--downstream", "--yes")  # fmt: skip

    def consumer_reran() -> bool:
        tasks = states_by_run("consumer")[first_consumer]
        return tasks["wait"] == ("success", 2) and tasks["report"] == ("success", 2)

    wait_for(consumer_reran, "the consumer's 00:00 run to run its sensor and report again")
    assert states_by_run("consumer")[second_consumer] == {
        "wait": ("success", 1),
        "report": ("success", 1),
    }
    assert states_by_run("producer")[first_producer_run]["extract"] == ("success", 2)

    # The sensor's task page links to the producer's run at the same logical date.
    page = task_page("consumer", second_consumer, "wait")
    producer_run = runs_of("producer")[2].run_id  # 02:00, as the consumer's second run
    assert "External DAG" in page and f"run_id={quote(producer_run, safe=':')}" in page


CONTROLLER = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.trigger_dagrun import TriggerDagRunOperator

    with DAG("controller", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        for task_id, deferrable, fail in [("waits", False, False), ("defers", True, False),
                                           ("sees_failure", True, True)]:
            TriggerDagRunOperator(
                task_id=task_id,
                trigger_dag_id="target",
                trigger_run_id=task_id + "__{{ run_id }}",
                conf={"who": "{{ task.task_id }}", "fail": fail},
                wait_for_completion=True,
                deferrable=deferrable,
                poke_interval=0.5,
            )
"""

TARGET = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.bash import BashOperator

    with DAG("target", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        BashOperator(
            task_id="work",
            bash_command=(
                "sleep 1; echo '{{ dag_run.conf.who }}' > {out}/{{ run_id }}; "
                "{{ 'exit 1' if dag_run.conf.fail else 'true' }}"
            ),
        )
"""

# A deferred sensor and another task share a pool of one slot: the other task can only run
# while the sensor waits if waiting does not hold the slot.
DEFERRING = """
    from datetime import timedelta
    import pendulum
    from flowsched import DAG
    from flowsched.sensors.time_delta import TimeDeltaSensorAsync

    with DAG("deferring", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        TimeDeltaSensorAsync(task_id="wait", delta=timedelta(seconds=15), pool="narrow")
"""

BUSY = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.bash import BashOperator

    with DAG("busy", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        BashOperator(task_id="work", bash_command="true", pool="narrow")
"""


def only_ti(dag_id: str, task_id: str) -> TaskInstance:
    (found,) = [ti for ti in tis_of(dag_id) if ti.task_id == task_id]
    return found


def state_of(dag_id: str, task_id: str) -> str | None:
    found = [ti.state for ti in tis_of(dag_id) if ti.task_id == task_id]
    return found[0] if found else None


def task_page(dag_id: str, run_id: str, task_id: str) -> str:
    """The task page as an admin sees it in the web UI."""
    with session_scope() as session:
        create_user(session, "admin", PASSWORD, "admin", actor="test")
    with create_app({"TESTING": True}).test_client() as client:
        log_in(client, "admin")
        response = client.get(f"/dags/{dag_id}/runs/{run_id}/tasks/{task_id}")
        assert response.status_code == 200
        return response.get_data(as_text=True)


def test_trigger_dag_run_waits_for_its_run_and_a_deferred_sensor_frees_its_slot(
    scheduler: Scheduler, dags_folder: Path, out_dir: Path
) -> None:
    write_dag(dags_folder, "controller", CONTROLLER)
    write_dag(dags_folder, "target", TARGET, out=out_dir)
    write_dag(dags_folder, "deferring", DEFERRING)
    write_dag(dags_folder, "busy", BUSY)
    flowsched("pools", "set", "narrow", "1")
    scheduler.start()
    wait_for_dag("busy")

    flowsched("dags", "trigger", "deferring")
    wait_for(lambda: state_of("deferring", "wait") == "up_for_reschedule", "the sensor to defer")
    flowsched("dags", "trigger", "busy")
    flowsched("dags", "trigger", "controller")
    wait_for(lambda: all_runs_ended("busy", 1), "the busy run to end")
    wait_for(lambda: all_runs_ended("deferring", 1), "the deferred sensor's run to end")
    wait_for(lambda: all_runs_ended("controller", 1), "the controller run to end", 120)

    sensor, busy = only_ti("deferring", "wait"), only_ti("busy", "work")
    assert (sensor.state, sensor.try_number) == ("success", 1)
    assert sensor.start_date < busy.start_date <= busy.end_date < sensor.end_date
    assert sensor.end_date >= runs_of("deferring")[0].data_interval_end + timedelta(seconds=15)

    controller_run = runs_of("controller")[0].run_id
    states = {ti.task_id: ti.state for ti in tis_of("controller")}
    assert states == {"waits": "success", "defers": "success", "sees_failure": "failed"}
    targets = {run.run_id: run for run in runs_of("target")}
    for task_id in ("waits", "defers"):
        run = targets[f"{task_id}__{controller_run}"]
        assert run.state == "success" and run.conf == {"who": task_id, "fail": False}
        assert (out_dir / run.run_id).read_text().strip() == task_id
        assert only_ti("controller", task_id).end_date >= run.end_date  # it waited
    assert targets[f"sees_failure__{controller_run}"].state == "failed"

    page = task_page("controller", controller_run, "defers")
    link = f"/dags/target/graph?run_id={quote(f'defers__{controller_run}', safe=':')}"
    assert "Triggered DAG" in page and link in page
