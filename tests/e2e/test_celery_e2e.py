"""The CeleryExecutor end to end: a real `flowsched scheduler` with core.executor=celery,
real `flowsched worker`s, PostgreSQL, and Redis or RabbitMQ as the broker; everything is
observed through the database."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from flowsched import db
from flowsched.db import session_scope
from flowsched.db.tables import TaskInstanceHistory
from tests.e2e.support import (
    Scheduler,
    Worker,
    descendants,
    finished_run,
    flowsched,
    process_running,
    still_running,
    stop_all,
    ti_states,
    tis_of,
    wait_for,
    write_dag,
    xcom_value,
)
from tests.executors.celery_support import private_queues

pytestmark = [pytest.mark.e2e, pytest.mark.celery, pytest.mark.postgres]

PIPELINE = """
    import os
    from datetime import timedelta
    import pendulum
    from flowsched import DAG, task

    with DAG("celery_pipeline", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        @task
        def numbers():
            return [1, 2, 3]

        @task
        def total(values):
            return sum(values)

        @task(queue="{special}")
        def special(value):
            return [os.environ["WORKER_ROLE"], value]

        @task(retries=1, retry_delay=timedelta(seconds=0))
        def flaky(ti=None):
            if ti.try_number == 1:
                raise RuntimeError("the first try fails")
            return os.environ["WORKER_ROLE"]

        special(total(numbers()))
        flaky()
"""

ZOMBIE_DAG = """
    import os, time
    from datetime import timedelta
    from pathlib import Path
    import pendulum
    from flowsched import DAG, task

    with DAG("celery_zombie", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        @task(retries=1, retry_delay=timedelta(seconds=0))
        def hangs_first(ti=None):
            if ti.try_number == 1:
                Path("{started}").write_text(str(os.getpid()))
                time.sleep(300)
            return ti.try_number
        hangs_first()
"""


@pytest.fixture
def queues(
    postgres_url: str, broker_url: str, fast_settings: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """A PostgreSQL database, core.executor=celery, and queues of this test's own."""
    monkeypatch.setenv("FLOWSCHED__CORE__EXECUTOR", "celery")
    db.upgrade_db()
    with private_queues(monkeypatch, broker_url, "special") as names:
        yield names


@pytest.fixture
def processes(queues: dict[str, str]) -> Iterator[list[Worker | Scheduler]]:
    """Workers and schedulers the test starts; stopped after (before its queues go)."""
    started: list[Worker | Scheduler] = []
    yield started
    stop_all(started)


def start(processes: list[Worker | Scheduler], process: Worker | Scheduler) -> Any:
    processes.append(process)
    return process.start()


def test_a_dag_runs_on_celery_workers_routed_by_queue(
    home: Path, dags_folder: Path, queues: dict[str, str], processes: list
) -> None:
    write_dag(dags_folder, "celery_pipeline", PIPELINE, special=queues["special"])
    start(processes, Worker(home, "main", env={"WORKER_ROLE": "main"}))
    special_only = ["--queues", queues["special"], "--concurrency", "1"]
    start(processes, Worker(home, "special", *special_only, env={"WORKER_ROLE": "special"}))
    scheduler = start(processes, Scheduler(home))
    flowsched("dags", "trigger", "celery_pipeline")
    run = wait_for(
        lambda: still_running(*processes) and finished_run("celery_pipeline"), "the run to end"
    )

    assert run.state == "success", scheduler.output()
    assert set(ti_states("celery_pipeline").values()) == {"success"}
    assert xcom_value("celery_pipeline", run.run_id, "total") == "6"
    assert json.loads(xcom_value("celery_pipeline", run.run_id, "special")) == ["special", 6]
    assert xcom_value("celery_pipeline", run.run_id, "flaky") == '"main"'
    assert {ti.task_id: ti.try_number for ti in tis_of("celery_pipeline")}["flaky"] == 2
    assert {ti.executor for ti in tis_of("celery_pipeline")} == {"celery"}
    assert scheduler.stop() == 0


@pytest.mark.parametrize("broker_url", ["redis"], indirect=True)
def test_a_try_whose_worker_is_killed_becomes_a_zombie_and_is_retried(
    home: Path,
    dags_folder: Path,
    tmp_path: Path,
    processes: list,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLOWSCHED__SCHEDULER__ZOMBIE_THRESHOLD", "3")
    started = tmp_path / "started"
    write_dag(dags_folder, "celery_zombie", ZOMBIE_DAG, started=started)
    doomed = start(processes, Worker(home, "doomed"))
    scheduler = start(processes, Scheduler(home))
    flowsched("dags", "trigger", "celery_zombie")
    wait_for(lambda: still_running(*processes) and started.exists(), "the first try to start")
    try_pid = int(wait_for(started.read_text, "the first try's pid"))

    below = descendants(doomed.pid)
    os.kill(doomed.pid, signal.SIGKILL)  # nothing it started may carry on without it
    wait_for(lambda: not any(map(process_running, below)), "its pool and try to die with it")
    assert try_pid in below
    rescuer = start(processes, Worker(home, "rescuer"))
    run = wait_for(
        lambda: still_running(scheduler, rescuer) and finished_run("celery_zombie"),
        "the retried try to succeed",
    )

    [ti] = tis_of("celery_zombie")
    assert (run.state, ti.state, ti.try_number) == ("success", "success", 2)
    with session_scope(readonly=True) as session:
        first = session.scalars(
            select(TaskInstanceHistory).where(
                TaskInstanceHistory.dag_id == "celery_zombie",
                TaskInstanceHistory.try_number == 1,
            )
        ).one()
        assert first.state == "up_for_retry"
        assert "worker lost" in (first.error or "")
        assert "without using one of the task's retries" in first.error
    assert scheduler.stop() == 0
