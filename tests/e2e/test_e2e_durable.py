"""Durable execution (issue 10): a platform failure never costs a task its run, and a
finished result is never lost.

Every task has ``retries=0`` and appends its id to an evidence file as the last thing
its code does, so "every task's code completed" and "no task whose code completed ran
again" are read from the file, not from the database that the faults are aimed at.
The fan-outs are smaller than the issue's 1 -> 300 to keep the suite quick;
bench/chaos_bench.py repeats the scheduler-kill scenario at 1 -> 300.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from sqlalchemy import select

from flowsched import db
from flowsched.db import session_scope
from flowsched.db.tables import TaskInstanceHistory
from tests.conftest import service_missing
from tests.e2e.pg_cluster import Cluster, server_binaries
from tests.e2e.support import (
    Scheduler,
    finished_run,
    flowsched,
    still_running,
    tis_of,
    wait_for,
    write_dag,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FANOUT_DAG = """
    import os
    import time
    import pendulum
    from flowsched import DAG, task

    def record(name):
        time.sleep({pause})
        fd = os.open("{evidence}", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, (name + "\\n").encode())
        os.close(fd)

    with DAG("fanout", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        first = task(task_id="first")(record)("first")
        for i in range({tasks}):
            first >> task(task_id=f"t{i:03}")(record)(f"t{i:03}")
"""


def write_fanout(dags_folder: Path, evidence: Path, tasks: int, pause: float) -> None:
    write_dag(dags_folder, "fanout", FANOUT_DAG, evidence=evidence, tasks=tasks, pause=pause)


def ran(evidence: Path) -> collections.Counter[str]:
    """How many times each task's code completed."""
    if not evidence.exists():
        return collections.Counter()
    return collections.Counter(evidence.read_text().split())


def assert_every_task_ran_once(evidence: Path, tasks: int) -> None:
    run = wait_for(lambda: finished_run("fanout"), "the run to end", 180)
    counts = ran(evidence)
    twice = {task: n for task, n in counts.items() if n > 1}
    assert not twice, f"ran more than once: {twice}"
    assert len(counts) == tasks + 1, f"never ran: {tasks + 1 - len(counts)} tasks"
    assert run.state == "success"
    assert {ti.state for ti in tis_of("fanout")} == {"success"}


def lost_try_reasons() -> list[str]:
    """The try-history messages of tries lost to the platform (shown on the task page)."""
    with session_scope(readonly=True) as session:
        errors = session.scalars(
            select(TaskInstanceHistory.error).where(
                TaskInstanceHistory.dag_id == "fanout", TaskInstanceHistory.error.is_not(None)
            )
        ).all()
    return list(errors)


def test_kill_9_of_the_scheduler_group_five_times_loses_and_doubles_nothing(
    scheduler: Scheduler, dags_folder: Path, out_dir: Path
) -> None:
    evidence, tasks = out_dir / "ran.txt", 100
    write_fanout(dags_folder, evidence, tasks, pause=0.05)
    scheduler.start(own_group=True)
    flowsched("dags", "trigger", "fanout")
    rng = random.Random()
    for target in sorted(rng.sample(range(2, tasks * 4 // 5), 5)):  # random moments of the run
        wait_for(lambda: still_running(scheduler) and len(ran(evidence)) >= target, "progress")
        time.sleep(rng.uniform(0, 0.2))
        scheduler.kill_group()
        scheduler.start(own_group=True)
    assert_every_task_ran_once(evidence, tasks)
    reasons = lost_try_reasons()
    assert all("without using one of the task's retries" in r or "outcome" in r for r in reasons)
    assert scheduler.stop() == 0


def test_kill_9_of_single_workers_reruns_their_tries_at_once(
    scheduler: Scheduler, dags_folder: Path, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The executor sees its worker die: the try is re-run (or re-sent) at once, so the run
    ends although the zombie threshold is far beyond the test's patience."""
    monkeypatch.setenv("FLOWSCHED__SCHEDULER__ZOMBIE_THRESHOLD", "3600")
    evidence, tasks = out_dir / "ran.txt", 40
    write_fanout(dags_folder, evidence, tasks, pause=1.0)  # a kill lands in the task's code
    scheduler.start()
    flowsched("dags", "trigger", "fanout")
    hit: set[str] = set()
    for _ in range(5):  # each time a worker running a task not hit before
        task_id, worker = wait_for(lambda: _a_busy_worker(scheduler, hit), "a try running")
        os.kill(worker, signal.SIGKILL)
        hit.add(task_id)
    assert_every_task_ran_once(evidence, tasks)
    assert any("worker lost" in reason for reason in lost_try_reasons())
    assert scheduler.stop() == 0


def _a_busy_worker(scheduler: Scheduler, hit: set[str]) -> tuple[str, int] | None:
    """A task not in ``hit`` whose try runs, and the LocalExecutor worker running it."""
    still_running(scheduler)
    for ti in tis_of("fanout"):
        if ti.state == "running" and ti.pid and ti.task_id not in hit:
            worker = _parent(ti.pid)
            if worker is not None and _parent(worker) == scheduler.pid:
                return ti.task_id, worker
    return None


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


@pytest.fixture
def own_postgres(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cluster]:
    """A PostgreSQL cluster of this test's own, as flowsched's database, migrated."""
    binaries = server_binaries()
    if binaries is None:
        service_missing("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) not installed")
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="flowsched-pg-")), binaries).create()
    monkeypatch.setenv("FLOWSCHED__DATABASE__SQL_ALCHEMY_CONN", cluster.url)
    monkeypatch.setenv("FLOWSCHED__DATABASE__OUTAGE_MAX_RETRY_INTERVAL", "2")
    db.dispose_engines()
    db.upgrade_db()
    try:
        yield cluster
    finally:
        db.dispose_engines()
        cluster.destroy()


def test_a_20_s_database_outage_fails_nothing_and_loses_no_result(
    own_postgres: Cluster, fast_settings: None, home: Path, dags_folder: Path, out_dir: Path
) -> None:
    evidence, tasks = out_dir / "ran.txt", 40
    write_fanout(dags_folder, evidence, tasks, pause=1.0)
    scheduler = Scheduler(home).start()
    try:
        flowsched("dags", "trigger", "fanout")
        wait_for(lambda: still_running(scheduler) and len(ran(evidence)) >= 8, "progress")
        own_postgres.stop()
        db.dispose_engines()
        outage_ends = time.monotonic() + 20
        while time.monotonic() < outage_ends:  # tries end meanwhile; none can be recorded
            still_running(scheduler)
            time.sleep(0.5)
        during = len(ran(evidence))
        own_postgres.start()
        assert_every_task_ran_once(evidence, tasks)
        assert during > 8  # tries ran and ended during the outage, and were recorded after
        said = scheduler.output()  # the scheduler's loop says it once, and once it is back
        assert said.count("flowsched.scheduling.loop: database unreachable") == 1, said
        assert said.count("flowsched.scheduling.loop: database back after") == 1, said
        assert scheduler.stop() == 0
    finally:
        if scheduler.process is not None and scheduler.process.poll() is None:
            scheduler.process.kill()


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a small tmpfs with the given options (``ro``, or a size to fill up)."""
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        folder = tmp_path / f"mount{len(mounted)}"
        folder.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
        )
        if done.returncode != 0:
            service_missing(f"cannot mount a tmpfs here (root needed): {done.stderr!r}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill_up(folder: Path) -> None:
    with suppress(OSError), (folder / "filler").open("wb") as filler:
        while True:
            filler.write(b"\0" * 65536)
            filler.flush()


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_a_log_folder_that_cannot_be_written_fails_nothing_and_says_why_once(
    fault: str,
    scheduler: Scheduler,
    dags_folder: Path,
    out_dir: Path,
    small_tmpfs: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    backend: str,
) -> None:
    logs = small_tmpfs("ro,size=1m" if fault == "read-only" else "size=256k")
    if fault == "full":
        fill_up(logs)
    monkeypatch.setenv("FLOWSCHED__LOGGING__BASE_LOG_FOLDER", str(logs))
    evidence, tasks = out_dir / "ran.txt", 12
    write_fanout(dags_folder, evidence, tasks, pause=0)
    scheduler.start()
    flowsched("dags", "trigger", "fanout")
    assert_every_task_ran_once(evidence, tasks)
    assert scheduler.stop() == 0
    said = scheduler.output()
    why = "Read-only file system" if fault == "read-only" else "No space left on device"
    complaints = [line for line in said.splitlines() if "cannot write the task log" in line]
    assert 1 <= len(complaints) <= 4 + 1, said  # once per worker (4), and the scheduler's
    assert all(why in line and str(logs) in line for line in complaints)
    assert "LocalExecutor worker" not in said  # no worker died
    with session_scope(readonly=True) as session:
        problems = session.scalars(
            select(TaskInstanceHistory.log_error).where(TaskInstanceHistory.dag_id == "fanout")
        ).all()
    assert all(problem and why in problem for problem in problems)  # shown on the task page
