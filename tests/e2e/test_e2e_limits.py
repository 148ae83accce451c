"""Limits and failures: pools, max_active_tasks, execution_timeout, a crashing task,
dagrun_timeout and the DAG's failure callback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.support import (
    Scheduler,
    finished_run,
    flowsched,
    max_overlap,
    read_intervals,
    ti_states,
    wait_for,
    write_dag,
)

pytestmark = pytest.mark.e2e

LIMITED_DAGS = """
    import time
    import pendulum
    from pathlib import Path
    from flowsched import DAG, task

    OUT = Path("{out}")

    def span(name):
        start = time.time()
        time.sleep(0.6)
        folder = OUT / name.split("_")[0]
        folder.mkdir(exist_ok=True)
        (folder / f"{name}.span").write_text(f"{start} {time.time()}")

    with DAG("pooled", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        for i in range(6):
            task(task_id=f"pooled_{i}", pool="two")(span)(f"pooled_{i}")

    with DAG("narrow", schedule=None, start_date=pendulum.datetime(2024, 1, 1),
             max_active_tasks=1):
        for i in range(3):
            task(task_id=f"narrow_{i}")(span)(f"narrow_{i}")
"""


def test_pools_and_max_active_tasks_cap_concurrency(
    scheduler: Scheduler, dags_folder: Path, out_dir: Path
) -> None:
    write_dag(dags_folder, "limited", LIMITED_DAGS, out=out_dir)
    flowsched("pools", "set", "two", "2")
    scheduler.start()
    flowsched("dags", "trigger", "pooled")
    flowsched("dags", "trigger", "narrow")
    for dag_id in ("pooled", "narrow"):
        run = wait_for(lambda dag_id=dag_id: finished_run(dag_id), f"the {dag_id} run to end")
        assert run.state == "success"
    assert max_overlap(read_intervals(out_dir / "pooled")) == 2
    assert max_overlap(read_intervals(out_dir / "narrow")) == 1
    assert scheduler.stop() == 0


FAILING_DAGS = """
    import os
    import time
    import pendulum
    from datetime import timedelta
    from pathlib import Path
    from flowsched import DAG, task

    OUT = Path("{out}")

    with DAG("crashing", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        @task(execution_timeout=timedelta(seconds=1))
        def sleeper():
            time.sleep(60)
            (OUT / "sleeper_finished").write_text("should not happen")

        @task
        def exits():
            os._exit(1)

        @task
        def fine():
            return "ok"

        @task
        def after_fine(value):
            (OUT / "after_fine").write_text(value)

        sleeper()
        exits()
        after_fine(fine())

    def on_failure(context):
        (OUT / "dag_failed").write_text(f"{context['run_id']} {context['reason']}")

    with DAG("slow_run", schedule=None, start_date=pendulum.datetime(2024, 1, 1),
             dagrun_timeout=timedelta(seconds=2), on_failure_callback=on_failure):
        @task
        def takes_long():
            time.sleep(60)

        @task
        def never():
            pass

        takes_long() >> never()
"""


def test_timeouts_and_crashes_fail_only_what_they_should(
    scheduler: Scheduler, dags_folder: Path, out_dir: Path
) -> None:
    write_dag(dags_folder, "failing", FAILING_DAGS, out=out_dir)
    scheduler.start()
    flowsched("dags", "trigger", "crashing")
    flowsched("dags", "trigger", "slow_run", "--run-id", "slow")
    run = wait_for(lambda: finished_run("crashing"), "the crashing run to end")
    states = ti_states("crashing")
    assert states == {"sleeper": "failed", "exits": "failed", "fine": "success",
                      "after_fine": "success"}  # fmt: skip
    assert not (out_dir / "sleeper_finished").exists()
    assert (out_dir / "after_fine").read_text() == "ok"
    assert run.state == "failed"

    slow = wait_for(lambda: finished_run("slow_run"), "the slow run to time out")
    assert slow.state == "failed"
    assert ti_states("slow_run") == {"takes_long": "skipped", "never": "skipped"}
    message = wait_for(lambda: _read(out_dir / "dag_failed"), "the DAG failure callback")
    assert message == "slow timed out"
    assert scheduler.stop() == 0


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None
