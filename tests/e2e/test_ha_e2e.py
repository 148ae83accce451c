"""High availability end to end (docs/deployment.md): two `flowsched scheduler`s and two
`flowsched worker`s on the machine's PostgreSQL and a real broker (Redis or RabbitMQ).

A DAG of 500 tasks (one root, 499 below it) and a DAG on a 10-second schedule with a
bounded catch-up run under both schedulers at once. Every task writes one line to a file
per try it runs, so "ran exactly once" is counted from what really ran, not from states.
Then the same with one scheduler killed with kill -9 and one worker lost (SIGKILL to it
and everything below it) when about half the tasks are done: the survivors finish the
work, the lost worker's tries are retried as zombies, and nothing that finished runs again.
Last, a scheduler that cannot reach the broker dies with tries it queued but never sent:
the other scheduler sees its heartbeat stop and sends them.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from flowsched import db
from flowsched.db import session_scope
from flowsched.db.tables import DagModel, DagRun, Job, TaskInstance, TaskInstanceHistory, utcnow
from tests.e2e.support import (
    Scheduler,
    Worker,
    descendants,
    flowsched,
    max_overlap,
    still_running,
    stop_all,
    wait_for,
    write_dag,
)
from tests.executors.celery_support import private_queues

pytestmark = [pytest.mark.e2e, pytest.mark.celery, pytest.mark.postgres]

TASKS = 500  # in the fan-out DAG, its root included
TICK = timedelta(seconds=10)  # the schedule of the "ticker" DAG
TICKS = 6  # its catch-up runs (end_date bounds them)
DEADLINE = 150.0  # for the whole of one run to end, on a loaded 2-core machine

DAGS = """
    import os
    from datetime import timedelta
    import pendulum
    from flowsched import DAG, task

    OUT = "{out}"

    def record(line):
        # one write of one line with O_APPEND: lines of concurrent tries never interleave
        fd = os.open(OUT, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, (line + "\\n").encode())
        os.close(fd)

    RETRIED = {"retries": 2, "retry_delay": timedelta(seconds=0)}

    with DAG("fanout", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        root = task(task_id="root", **RETRIED)(record)("fanout root")
        for i in range({leaves}):
            name = f"t{i:03}"
            root >> task(task_id=name, **RETRIED)(record)(f"fanout {name}")

    with DAG("ticker", schedule=timedelta(seconds={tick}), start_date=pendulum.parse("{start}"),
             end_date=pendulum.parse("{end}"), catchup=True, max_active_runs=3):
        @task(**RETRIED)
        def tick(run_id=None):
            record(f"ticker {run_id}")

        @task(**RETRIED)
        def tock(run_id=None):
            record(f"ticker-tock {run_id}")

        tick() >> tock()
"""


@pytest.fixture
def ha_env(
    postgres_url: str, broker_url: str, fast_settings: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """PostgreSQL, core.executor=celery on queues of this test's own, parallelism matching
    the two workers' concurrency (4 each)."""
    monkeypatch.setenv("FLOWSCHED__CORE__EXECUTOR", "celery")
    monkeypatch.setenv("FLOWSCHED__CORE__PARALLELISM", "8")
    monkeypatch.setenv("FLOWSCHED__CELERY__WORKER_CONCURRENCY", "4")
    db.upgrade_db()
    with private_queues(monkeypatch, broker_url) as names:
        yield names


@pytest.fixture
def processes(ha_env: dict[str, str]) -> Iterator[list[Worker | Scheduler]]:
    """Every scheduler and worker the test starts; all stopped after, killed if need be."""
    started: list[Worker | Scheduler] = []
    yield started
    stop_all(started)


class Dags:
    """The two DAGs of a test, written to its dags folder, and what their tasks wrote."""

    def __init__(self, dags_folder: Path, out: Path) -> None:
        self.out = out
        now = datetime.now(UTC).replace(microsecond=0)
        self.start = now - 2 * TICKS * TICK  # every interval ended long ago: all due now
        end = self.start + (TICKS - 1) * TICK + TICK / 2  # no interval starts after it
        write_dag(dags_folder, "ha", DAGS, out=out, leaves=TASKS - 1, tick=int(TICK.seconds),
                  start=self.start.isoformat(), end=end.isoformat())  # fmt: skip

    @property
    def expected_ticks(self) -> list[datetime]:
        return [self.start + i * TICK for i in range(TICKS)]

    def lines(self) -> collections.Counter[str]:
        text = self.out.read_text() if self.out.exists() else ""
        return collections.Counter(text.splitlines())

    def fanout_lines(self) -> collections.Counter[str]:
        return collections.Counter(
            {line.split()[1]: n for line, n in self.lines().items() if line.startswith("fanout ")}
        )


def start_cluster(home: Path, processes: list[Worker | Scheduler]) -> dict[str, list]:
    workers = [Worker(home, name, "--concurrency", "4") for name in ("w1", "w2")]
    schedulers = [named_scheduler(home, name) for name in ("a", "b")]
    for process in [*workers, *schedulers]:
        start_process(processes, process)
    return {"workers": workers, "schedulers": schedulers}


def alive_jobs(job_type: str) -> list[dict]:
    result = flowsched("jobs", "check", "--job-type", job_type, "--output", "json", check=False)
    return json.loads(result.stdout or "[]")


def success_count(dag_id: str) -> int:
    with session_scope(readonly=True) as session:
        return session.scalar(
            select(func.count()).where(
                TaskInstance.dag_id == dag_id, TaskInstance.state == "success"
            )
        )


def runs_by_logical_date(dag_id: str) -> collections.Counter[datetime]:
    with session_scope(readonly=True) as session:
        dates = session.scalars(select(DagRun.logical_date).where(DagRun.dag_id == dag_id))
        return collections.Counter(dates)


def all_runs_done(dag_id: str, count: int) -> bool:
    with session_scope(readonly=True) as session:
        states = session.scalars(select(DagRun.state).where(DagRun.dag_id == dag_id)).all()
    return len(states) >= count and all(state in ("success", "failed") for state in states)


def try_numbers(dag_id: str) -> dict[tuple[str, str], int]:
    """(run_id, task_id) -> the try that ended the task instance."""
    with session_scope(readonly=True) as session:
        rows = session.execute(
            select(TaskInstance.run_id, TaskInstance.task_id, TaskInstance.try_number,
                   TaskInstance.state).where(TaskInstance.dag_id == dag_id)
        ).all()  # fmt: skip
    assert {state for *_, state in rows} == {"success"}, collections.Counter(r[3] for r in rows)
    return {(run_id, task_id): n for run_id, task_id, n, _ in rows}


def earlier_tries(dag_id: str) -> dict[tuple[str, str, int], tuple[str | None, str | None]]:
    """(run_id, task_id, try_number) -> (state, error) of every try that was not the last."""
    with session_scope(readonly=True) as session:
        rows = session.execute(
            select(TaskInstanceHistory.run_id, TaskInstanceHistory.task_id,
                   TaskInstanceHistory.try_number, TaskInstanceHistory.state,
                   TaskInstanceHistory.error).where(TaskInstanceHistory.dag_id == dag_id)
        ).all()  # fmt: skip
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}


def run_spans(dag_id: str) -> list[tuple[float, float]]:
    with session_scope(readonly=True) as session:
        rows = session.execute(
            select(DagRun.start_date, DagRun.end_date).where(DagRun.dag_id == dag_id)
        ).all()
    return [(start.timestamp(), end.timestamp()) for start, end in rows if start and end]


def assert_ticker_ran_each_interval_once(dags: Dags, *, allow_retried: bool) -> None:
    runs = runs_by_logical_date("ticker")
    assert sorted(runs) == dags.expected_ticks
    assert set(runs.values()) == {1}
    with session_scope(readonly=True) as session:
        rows = session.execute(
            select(DagRun.run_id, DagRun.state, DagRun.logical_date).where(
                DagRun.dag_id == "ticker"
            )
        ).all()
    assert {state for _, state, _ in rows} == {"success"}
    assert all(run_id == f"scheduled__{date.isoformat()}" for run_id, _, date in rows)
    assert max_overlap(run_spans("ticker")) <= 3  # max_active_runs, whoever started them
    tries = try_numbers("ticker")
    lines = dags.lines()
    for run_id, _, _ in rows:
        for task_id, prefix in (("tick", "ticker"), ("tock", "ticker-tock")):
            written = lines[f"{prefix} {run_id}"]
            if tries[(run_id, task_id)] == 1 or not allow_retried:
                assert written == 1, (run_id, task_id, written)
            else:
                assert 1 <= written <= tries[(run_id, task_id)], (run_id, task_id, written)


def test_two_schedulers_and_two_workers_run_everything_exactly_once(
    home: Path, dags_folder: Path, tmp_path: Path, processes: list
) -> None:
    dags = Dags(dags_folder, tmp_path / "ran.txt")
    cluster = start_cluster(home, processes)
    wait_for(lambda: still_running(*processes) and len(alive_jobs("scheduler")) == 2,
             "both schedulers to heartbeat")  # fmt: skip
    assert {job["pid"] for job in alive_jobs("scheduler")} == {s.pid for s in cluster["schedulers"]}
    assert len(alive_jobs("worker")) == 2
    wait_for(lambda: still_running(*processes) and _parsed("fanout"), "the DAGs to be parsed")
    started = time.monotonic()
    flowsched("dags", "trigger", "fanout", "--run-id", "big")
    run = wait_for(
        lambda: still_running(*processes) and _finished("fanout", "big"),
        "the 500-task run to end",
        DEADLINE,
    )
    elapsed = time.monotonic() - started
    wait_for(lambda: still_running(*processes) and all_runs_done("ticker", TICKS),
             "the ticker's catch-up runs to end")  # fmt: skip

    assert run.state == "success", _outputs(processes)
    fanout = dags.fanout_lines()
    assert len(fanout) == TASKS and set(fanout.values()) == {1}, fanout.most_common(3)
    assert set(try_numbers("fanout").values()) == {1}
    assert_ticker_ran_each_interval_once(dags, allow_retried=False)
    successes = [worker.output().count(" ended: success") for worker in cluster["workers"]]
    assert sum(successes) == TASKS + 2 * TICKS  # one successful try per task instance
    assert all(successes), successes  # both workers took part
    print(f"500 tasks under 2 schedulers and 2 workers: {elapsed:.1f} s")


def test_killing_a_scheduler_and_a_worker_halfway_loses_nothing_and_repeats_nothing(
    home: Path,
    dags_folder: Path,
    tmp_path: Path,
    processes: list,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLOWSCHED__SCHEDULER__ZOMBIE_THRESHOLD", "5")
    monkeypatch.setenv("FLOWSCHED__CELERY__TASK_QUEUED_TIMEOUT", "10")
    dags = Dags(dags_folder, tmp_path / "ran.txt")
    cluster = start_cluster(home, processes)
    (doomed_worker, survivor), (doomed_scheduler, rescuer) = (
        cluster["workers"],
        cluster["schedulers"],
    )
    wait_for(lambda: still_running(*processes) and _parsed("fanout"), "the DAGs to be parsed")
    flowsched("dags", "trigger", "fanout", "--run-id", "big")

    wait_for(
        lambda: still_running(*processes) and success_count("fanout") >= TASKS // 2,
        "half the tasks to be done",
        DEADLINE,
    )
    doomed_scheduler.kill()
    lost = freeze_while_trying(doomed_worker)
    doomed_worker.kill_everything()  # a lost machine: nothing records its tries' ends
    done_at_kill = success_count("fanout")
    alive = [survivor, rescuer]

    run = wait_for(
        lambda: still_running(*alive) and _finished("fanout", "big"),
        "the run to end without the killed scheduler and worker",
        DEADLINE,
    )
    wait_for(lambda: still_running(*alive) and all_runs_done("ticker", TICKS),
             "the ticker's catch-up runs to end")  # fmt: skip

    assert run.state == "success", _outputs(processes)
    assert done_at_kill < TASKS
    tries = try_numbers("fanout")
    history = earlier_tries("fanout")
    fanout = dags.fanout_lines()
    assert set(fanout) == {task_id for _, task_id in tries}
    assert sum(fanout.values()) >= TASKS
    for (run_id, task_id), last_try in tries.items():
        if last_try == 1:
            assert fanout[task_id] == 1, (task_id, fanout[task_id])
            continue
        # retried: every try before the last one ended without success (killed with its
        # worker), so its line may or may not have been written
        assert 1 <= fanout[task_id] <= last_try, (task_id, fanout[task_id], last_try)
        for n in range(1, last_try):
            state, _ = history[(run_id, task_id, n)]
            assert state != "success", (task_id, n, state)
    # the worker was killed while it ran tries; each of them was either re-run as a new try
    # (a "worker lost" try in the history, not using a retry) or, when its code had ended
    # before the kill, recorded from the outcome it left beside its log -- either way its
    # code ran once (checked above) and the run succeeded
    assert lost
    zombies = [key for key, (state, error) in history.items() if "worker lost" in (error or "")]
    for run_id, task_id, n in zombies:
        assert history[(run_id, task_id, n)][0] == "up_for_retry"
        assert tries[(run_id, task_id)] > n
    assert_ticker_ran_each_interval_once(dags, allow_retried=True)
    wait_for(lambda: [job["pid"] for job in alive_jobs("scheduler")] == [rescuer.pid],
             "the killed scheduler to count as dead")  # fmt: skip
    wait_for(lambda: [job["hostname"].split("@")[0] for job in alive_jobs("worker")]
             == [survivor.name], "the killed worker to count as dead")  # fmt: skip


WIDE_DAG = """
    import os
    import pendulum
    from flowsched import DAG, task

    def record(line):
        fd = os.open("{out}", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, (line + "\\n").encode())
        os.close(fd)

    with DAG("wide", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        for i in range(40):
            task(task_id=f"w{i:02}")(record)(f"w{i:02}")
"""


@pytest.mark.parametrize("broker_url", ["redis"], indirect=True)
def test_what_a_dead_scheduler_queued_but_never_sent_is_sent_by_the_other(
    home: Path,
    dags_folder: Path,
    tmp_path: Path,
    processes: list,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Scheduler "cut-off" cannot reach the broker: the tries it queues stay in the
    database only. When it dies, the other sees its heartbeat stop and sends them, long
    before the queued timeout would."""
    monkeypatch.setenv("FLOWSCHED__CELERY__TASK_QUEUED_TIMEOUT", "600")
    out = tmp_path / "ran.txt"
    write_dag(dags_folder, "wide", WIDE_DAG, out=out)
    start_process(processes, Worker(home, "w1", "--concurrency", "4"))
    rescuer = start_process(processes, named_scheduler(home, "rescuer"))
    with monkeypatch.context() as env:
        env.setenv("FLOWSCHED__CELERY__BROKER_URL", f"redis://127.0.0.1:{closed_port()}/0")
        cut_off = start_process(processes, named_scheduler(home, "cut-off"))
    wait_for(lambda: still_running(*processes) and len(alive_jobs("scheduler")) == 2,
             "both schedulers to heartbeat")  # fmt: skip
    wait_for(lambda: still_running(*processes) and _parsed("wide"), "the DAG to be parsed")
    flowsched("dags", "trigger", "wide", "--run-id", "wide")
    wait_for(
        lambda: (
            still_running(*processes)
            and "cannot reach the Celery broker" in cut_off.output()
            and _queued_since("wide", timedelta(seconds=3))
        ),
        "tries to be queued by the scheduler that cannot send them",
    )
    stuck = _queued_since("wide", timedelta(seconds=3))
    cut_off.kill()
    run = wait_for(
        lambda: still_running(rescuer) and _finished("wide", "wide"),
        "the other scheduler to send them",
        DEADLINE,
    )

    assert run.state == "success", _outputs(processes)
    lines = collections.Counter(out.read_text().splitlines())
    assert len(lines) == 40 and set(lines.values()) == {1}
    assert set(try_numbers("wide").values()) == {1}
    assert stuck and "scheduler" in rescuer.output() and "stopped heartbeating" in rescuer.output()
    with session_scope(readonly=True) as session:
        state = session.scalar(select(Job.state).where(Job.pid == cut_off.pid))
    assert state == "failed"


def named_scheduler(home: Path, name: str) -> Scheduler:
    scheduler = Scheduler(home)
    scheduler.log = home / f"scheduler-{name}.log"
    return scheduler


def start_process(processes: list, process: Worker | Scheduler) -> Any:
    processes.append(process)
    return process.start()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _queued_since(dag_id: str, age: timedelta) -> list[str]:
    """Tasks queued for longer than ``age``: a message that was never sent."""
    with session_scope(readonly=True) as session:
        return list(
            session.scalars(
                select(TaskInstance.task_id).where(
                    TaskInstance.dag_id == dag_id,
                    TaskInstance.state == "queued",
                    TaskInstance.queued_dttm < utcnow() - age,
                )
            )
        )


def freeze_while_trying(worker: Worker) -> list[int]:
    """SIGSTOP the worker and everything below it at a moment when it runs tries (each in a
    child of a pool process), so that none of them can end; the pids of those tries."""
    deadline = time.monotonic() + DEADLINE
    while True:
        stopped: set[int] = set()
        while True:  # until no process appeared since the last round
            tree = {worker.pid, *descendants(worker.pid)} - stopped
            if not tree:
                break
            for pid in tree:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
            stopped |= tree
        tries = [pid for pool in children(worker.pid) for pid in children(pool)]
        if tries:
            return tries
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        assert time.monotonic() < deadline, f"worker {worker.name} never ran a try"
        time.sleep(0.01)


def children(pid: int) -> list[int]:
    found = []
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(FileNotFoundError):
            found += [int(child) for child in listing.read_text().split()]
    return found


def _parsed(dag_id: str) -> bool:
    with session_scope(readonly=True) as session:
        return session.get(DagModel, dag_id) is not None


def _finished(dag_id: str, run_id: str) -> DagRun | None:
    with session_scope(readonly=True) as session:
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
        ).first()
        if run is None or run.state not in ("success", "failed"):
            return None
        session.expunge(run)
        return run


def _outputs(processes: list[Worker | Scheduler]) -> str:
    return "\n".join(f"--- {p.log.name}\n{p.output()[-3000:]}" for p in processes)
