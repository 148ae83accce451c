"""Airflow's fail_stop and max_consecutive_failed_dag_runs under the real scheduler."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.tables import AuditLog, DagModel
from tests.e2e.support import Scheduler, runs_of, tis_of, wait_for, write_dag

pytestmark = pytest.mark.e2e

FAIL_STOP_DAG = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.bash import BashOperator

    with DAG("stop_early", schedule="@daily", catchup=True, max_active_runs=1,
             start_date=pendulum.now("UTC").subtract(days=3).start_of("day"),
             fail_stop=True, max_consecutive_failed_dag_runs=2):
        boom = BashOperator(task_id="boom", bash_command="sleep 2; exit 1")
        boom >> BashOperator(task_id="after_boom", bash_command="true")
        slow = BashOperator(task_id="slow", bash_command="sleep 120")
        slow >> BashOperator(task_id="after_slow", bash_command="true")
"""


def paused(dag_id: str) -> bool:
    with session_scope(readonly=True) as session:
        return bool(session.scalar(select(DagModel.is_paused).where(DagModel.dag_id == dag_id)))


@pytest.mark.backends("sqlite")
def test_a_failure_stops_the_run_and_two_failed_runs_pause_the_dag(
    scheduler: Scheduler, dags_folder: Path
) -> None:
    write_dag(dags_folder, "stop_early", FAIL_STOP_DAG)
    scheduler.start()
    wait_for(lambda: paused("stop_early"), "the DAG to be paused after two failed runs", 120)
    runs = runs_of("stop_early")
    assert [run.state for run in runs] == ["failed", "failed"]  # no third run once paused
    for ti in tis_of("stop_early"):
        expected = {"boom": "failed", "slow": "failed", "after_boom": "upstream_failed"}.get(
            ti.task_id, "skipped"
        )
        assert ti.state == expected, (ti.run_id, ti.task_id, ti.state)
        if ti.task_id == "slow":  # stopped by boom's failure, long before its 120 s sleep
            assert (ti.end_date - ti.start_date).total_seconds() < 60
    with session_scope(readonly=True) as session:
        entry = session.execute(
            select(AuditLog.user, AuditLog.event, AuditLog.extra).where(
                AuditLog.dag_id == "stop_early"
            )
        ).one()
    assert (entry.user, entry.event) == ("scheduler", "pause")
    assert "last 2 runs failed" in json.loads(entry.extra)["reason"]
