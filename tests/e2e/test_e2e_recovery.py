"""What survives a crash: the scheduler killed mid-run, a worker killed mid-try, and the
one-scheduler rule on SQLite."""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from flowsched.db import session_scope
from flowsched.db.tables import Job, TaskInstance, TaskInstanceHistory
from tests.e2e.support import (
    FLOWSCHED,
    Scheduler,
    finished_run,
    flowsched,
    pid_alive,
    ti_states,
    tis_of,
    wait_for,
    write_dag,
)

pytestmark = pytest.mark.e2e

WIDE_DAG = """
    import os
    import pendulum
    from flowsched import DAG, task

    def record(name):
        fd = os.open("{out}/ran.txt", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, f"{{name}}\\n".encode())
        os.close(fd)

    with DAG("wide", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        first = task(task_id="first")(record)("first")
        for i in range(198):
            first >> task(task_id=f"t{i:03}")(record)(f"t{i:03}")
"""


def test_kill_9_of_the_scheduler_loses_nothing_and_runs_nothing_twice(
    scheduler: Scheduler, dags_folder: Path, out_dir: Path, home: Path
) -> None:
    write_dag(dags_folder, "wide", WIDE_DAG.replace("{{name}}", "{name}"), out=out_dir)
    scheduler.start()
    flowsched("dags", "trigger", "wide")
    wait_for(lambda: list(ti_states("wide").values()).count("success") >= 40, "40 tasks to succeed")
    scheduler.kill()
    assert finished_run("wide") is None
    scheduler.start()
    run = wait_for(lambda: finished_run("wide"), "the run to finish after the restart", 180)
    assert run.state == "success"
    counts = collections.Counter((out_dir / "ran.txt").read_text().split())
    assert len(counts) == 199
    assert set(counts.values()) == {1}
    assert {ti.try_number for ti in tis_of("wide")} == {1}
    assert scheduler.stop() == 0


ZOMBIE_DAG = """
    import time
    import pendulum
    from datetime import timedelta
    from flowsched import DAG, task

    with DAG("zombie", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        @task(retries=1, retry_delay=timedelta(seconds=0))
        def hangs_first(ti=None):
            if ti.try_number == 1:
                time.sleep(120)
            return ti.try_number
        hangs_first()
"""


def test_kill_9_of_a_running_try_fails_that_try_and_it_is_retried(
    scheduler: Scheduler, dags_folder: Path
) -> None:
    write_dag(dags_folder, "zombie", ZOMBIE_DAG)
    scheduler.start()
    flowsched("dags", "trigger", "zombie")
    ti = _first_try_running()
    os.kill(ti.pid, signal.SIGKILL)  # the process the TI row names
    assert _retried_run_state() == "success"
    assert "zombie" not in (_first_try_error() or "")
    assert scheduler.stop() == 0


def test_a_try_whose_scheduler_and_worker_died_is_rerun_at_restart(
    scheduler: Scheduler, dags_folder: Path
) -> None:
    """Scheduler and worker both die (kill -9 of the whole tree): the next scheduler sees
    at start that the try's supervisor is gone and re-runs it at once, without waiting for
    the zombie threshold (60 s here) and without using one of the task's retries."""
    write_dag(dags_folder, "zombie", ZOMBIE_DAG)
    scheduler.start()
    flowsched("dags", "trigger", "zombie")
    _first_try_running()
    tree = _process_tree(scheduler.pid)
    for pid in tree:  # freeze all first, so that nobody sees the others die
        os.kill(pid, signal.SIGSTOP)
    for pid in tree:
        os.kill(pid, signal.SIGKILL)
    scheduler.process.wait(10)
    scheduler.start()
    assert _retried_run_state() == "success"
    assert "scheduler restarted" in (_first_try_error() or "")
    [ti] = tis_of("zombie")
    assert (ti.max_tries, ti.platform_retries) == (2, 1)  # its one retry is still unused
    assert scheduler.stop() == 0


def _process_tree(root: int) -> list[int]:
    """``root`` and every process below it (a try runs in a child of a worker)."""
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        children = Path(f"/proc/{pid}/task/{pid}/children")
        with contextlib.suppress(FileNotFoundError):
            todo += [int(child) for child in children.read_text().split()]
    return tree


def _first_try_running() -> TaskInstance:
    [ti] = wait_for(
        lambda: [t for t in tis_of("zombie") if t.state == "running" and t.pid], "the first try"
    )
    return ti


def _retried_run_state() -> str:
    run = wait_for(lambda: finished_run("zombie"), "the retried try to succeed")
    [ti] = tis_of("zombie")
    assert (ti.state, ti.try_number) == ("success", 2)
    return run.state


def _first_try_error() -> str | None:
    with session_scope(readonly=True) as session:
        first = session.scalars(
            select(TaskInstanceHistory).where(
                TaskInstanceHistory.dag_id == "zombie", TaskInstanceHistory.try_number == 1
            )
        ).one()
        assert first.state == "up_for_retry"
        return first.error


@pytest.mark.backends("sqlite")  # PostgreSQL runs several: see test_ha_e2e.py
def test_a_second_scheduler_refuses_and_sigterm_stops_cleanly(scheduler: Scheduler) -> None:
    scheduler.start()
    wait_for(lambda: _scheduler_jobs("running"), "the scheduler's job row")
    second = subprocess.run([FLOWSCHED, "scheduler"], capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    [line] = second.stderr.strip().splitlines()
    assert f"another scheduler (pid {scheduler.pid})" in line
    assert scheduler.stop() == 0
    assert _scheduler_jobs("success")


@pytest.mark.backends("sqlite")  # PostgreSQL runs several: see test_ha_e2e.py
def test_daemon_mode_writes_its_pid_and_stops_on_sigterm(scheduler: Scheduler, home: Path) -> None:
    pid_file = home / "sched.pid"
    started = flowsched("scheduler", "-D", "--pid", str(pid_file))
    assert "background" in started.stdout
    pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the pid file"))
    try:
        refused = flowsched("scheduler", "-D", check=False)
        assert refused.returncode == 1 and "another scheduler" in refused.stderr
    finally:
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not pid_alive(pid), "the daemon to exit")
    assert not pid_file.exists()
    assert _scheduler_jobs("success")


def _scheduler_jobs(state: str) -> list[Job]:
    with session_scope(readonly=True) as session:
        return list(session.scalars(select(Job).where(Job.job_type == "scheduler",
                                                      Job.state == state)))  # fmt: skip
