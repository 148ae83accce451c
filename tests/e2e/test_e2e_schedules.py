"""Scheduled runs: cron intervals, catchup within max_active_runs, no catchup, manual runs."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.support import (
    Scheduler,
    finished_run,
    flowsched,
    max_overlap,
    runs_of,
    ti_states,
    wait_for,
    write_dag,
    xcom_value,
)

pytestmark = pytest.mark.e2e

SCHEDULED_DAGS = """
    import time
    from datetime import timedelta
    import pendulum
    from flowsched import DAG, task

    START = pendulum.parse("{start}")

    with DAG("every_minute", schedule="* * * * *", start_date=START, catchup=True,
             max_active_runs=2):
        @task
        def work(data_interval_start=None, data_interval_end=None):
            time.sleep(1)
            return [data_interval_start.isoformat(), data_interval_end.isoformat()]
        work()

    with DAG("latest_only", schedule=timedelta(minutes=1), start_date=START, catchup=False):
        @task
        def noop():
            return 1
        noop()
"""


def test_cron_catchup_creates_contiguous_runs_within_max_active_runs(
    scheduler: Scheduler, dags_folder: Path
) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - timedelta(minutes=4)
    write_dag(dags_folder, "scheduled", SCHEDULED_DAGS, start=start.isoformat())
    scheduler.start()

    def four_done() -> bool:
        found = runs_of("every_minute")
        return len([run for run in found[:4] if run.state == "success"]) == 4

    wait_for(four_done, "four catch-up runs of every_minute to succeed")
    found = runs_of("every_minute")
    for index, run in enumerate(found[:4]):
        assert run.data_interval_start == start + timedelta(minutes=index)
        assert run.data_interval_end == run.data_interval_start + timedelta(minutes=1)
        assert run.logical_date == run.data_interval_start
        assert run.run_id == f"scheduled__{run.logical_date.isoformat()}"
        assert run.run_type == "scheduled"
    assert all(b.data_interval_start == a.data_interval_end for a, b in itertools.pairwise(found))
    spans = [(r.start_date.timestamp(), r.end_date.timestamp()) for r in found if r.end_date]
    assert max_overlap(spans) == 2

    latest = wait_for(lambda: runs_of("latest_only"), "the run of latest_only")
    assert latest[0].data_interval_start >= now - timedelta(minutes=2)
    assert scheduler.stop() == 0


MANUAL_DAG = """
    import pendulum
    from flowsched import DAG, Param, task

    with DAG("manual", schedule=None, start_date=pendulum.datetime(2024, 1, 1),
             params={"n": Param(1, type="integer")}):
        @task
        def show(params=None, dag_run=None):
            return {"n": params["n"], "conf": dag_run.conf}
        show()
"""


def test_a_triggered_run_is_started_and_sees_its_conf(
    scheduler: Scheduler, dags_folder: Path
) -> None:
    write_dag(dags_folder, "manual", MANUAL_DAG)
    scheduler.start()
    flowsched("dags", "unpause", "manual")
    flowsched("dags", "trigger", "manual", "--conf", '{"n": 5}', "--run-id", "by_hand")
    # The run ends in the scheduler pass after its last task's result is recorded.
    run = wait_for(lambda: finished_run("manual"), "the manual run to end")
    assert run.run_type == "manual" and run.state == "success"
    assert ti_states("manual", "by_hand") == {"show": "success"}
    assert flowsched("dags", "state", "manual", "by_hand").stdout.strip() == "success"
    assert json.loads(xcom_value("manual", "by_hand", "show")) == {"n": 5, "conf": {"n": 5}}
    assert scheduler.stop() == 0
