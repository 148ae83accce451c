"""TriggerDagRunOperator, one try at a time as a worker runs it, against real rows."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import select, update

from flowsched.db import session_scope
from flowsched.db.tables import DagRun, TaskInstance
from flowsched.parsing.scan import parse_dags_folder
from tests.runner.support import (
    create_run,
    queue_ti,
    read_log,
    run_state,
    write_dag,
    xcom_values,
)

DAGS = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.empty import EmptyOperator
    from flowsched.operators.trigger_dagrun import TriggerDagRunOperator

    START = pendulum.datetime(2024, 1, 1)
    with DAG("target", start_date=START):
        EmptyOperator(task_id="work")

    with DAG("controller", start_date=START):
        common = dict(trigger_dag_id="target", trigger_run_id="from_{{ ds_nodash }}")
        TriggerDagRunOperator(task_id="trigger", conf={"day": "{{ ds }}"}, **common)
        TriggerDagRunOperator(task_id="again", **common)
        TriggerDagRunOperator(task_id="skip", skip_when_already_exists=True, **common)
        TriggerDagRunOperator(task_id="reset", reset_dag_run=True, **common)
        TriggerDagRunOperator(task_id="not_json", conf={"x": {1, 2}}, **common)
        wait = dict(trigger_dag_id="target", wait_for_completion=True, poke_interval=0.1)
        TriggerDagRunOperator(task_id="waits", trigger_run_id="waited", **wait)
        TriggerDagRunOperator(task_id="defers", trigger_run_id="deferred", deferrable=True, **wait)
"""


@pytest.fixture
def dags(dags_folder, migrated_db):
    path = write_dag(dags_folder, "controller", DAGS)
    parse_dags_folder(dags_folder)
    create_run("controller")
    return path


def target_run(run_id: str) -> DagRun | None:
    with session_scope(readonly=True) as session:
        run = session.scalar(
            select(DagRun).where(DagRun.dag_id == "target", DagRun.run_id == run_id)
        )
        if run is not None:
            session.expunge(run)
        return run


def set_target_state(run_id: str, state: str) -> None:
    with session_scope() as session:
        session.execute(
            update(DagRun)
            .where(DagRun.dag_id == "target", DagRun.run_id == run_id)
            .values(state=state)
        )


def test_triggers_a_run_with_the_rendered_conf_and_pushes_its_id(dags):
    assert run_state(dags, queue_ti("controller", "trigger")) == "success"
    run = target_run("from_20240301")
    assert (run.state, run.run_type, run.external_trigger) == ("queued", "manual", True)
    assert run.conf == {"day": "2024-03-01"}
    pushed = xcom_values("controller", "trigger")
    assert json.loads(pushed[(-1, "trigger_run_id")]) == "from_20240301"
    assert json.loads(pushed[(-1, "trigger_logical_date_iso")]) == run.logical_date.isoformat()


def test_an_existing_run_fails_the_task_or_is_skipped_or_cleared(dags):
    assert run_state(dags, queue_ti("controller", "trigger")) == "success"
    again = queue_ti("controller", "again")
    assert run_state(dags, again) == "failed"
    assert "already has a run 'from_20240301'" in read_log(again)
    assert run_state(dags, queue_ti("controller", "skip")) == "skipped"

    set_target_state("from_20240301", "failed")
    with session_scope() as session:
        session.add(
            TaskInstance(dag_id="target", run_id="from_20240301", task_id="work", state="failed")
        )
    assert run_state(dags, queue_ti("controller", "reset")) == "success"
    assert target_run("from_20240301").state == "queued"  # cleared: it runs again
    with session_scope(readonly=True) as session:
        assert (
            session.scalar(select(TaskInstance.state).where(TaskInstance.dag_id == "target"))
            is None
        )


def test_a_conf_that_is_not_json_fails_the_task(dags):
    key = queue_ti("controller", "not_json")
    assert run_state(dags, key) == "failed"
    assert "conf parameter should be JSON Serializable" in read_log(key)
    assert target_run("from_20240301") is None


def test_waits_for_the_triggered_run_holding_its_slot(dags):
    finisher = threading.Thread(target=finish_when_triggered, args=("waited", "success"))
    finisher.start()
    assert run_state(dags, queue_ti("controller", "waits")) == "success"
    finisher.join()


def finish_when_triggered(run_id: str, state: str) -> None:
    while target_run(run_id) is None:
        time.sleep(0.05)
    time.sleep(0.3)
    set_target_state(run_id, state)


def test_deferrable_waits_without_its_slot_and_fails_when_the_run_fails(dags):
    key = queue_ti("controller", "defers")
    assert run_state(dags, key) == "up_for_reschedule"
    assert target_run("deferred").state == "queued"
    set_target_state("deferred", "failed")
    queue_ti("controller", "defers")
    assert run_state(dags, key) == "failed"
    assert "target failed with failed state failed" in read_log(key)
    with session_scope(readonly=True) as session:  # the resumed pass did not trigger again
        assert session.scalars(select(DagRun.run_id).where(DagRun.dag_id == "target")).all() == [
            "deferred"
        ]
