"""Chaos: ``kill -9`` of the scheduler's whole process group 5 times during a 1 -> N
fan-out, restarting it each time; repeated, it counts what a platform failure cost.

Each repetition runs on a fresh FLOWSCHED_HOME (SQLite, or a PostgreSQL database of its
own) with ``retries=0`` on every task; each task appends its id to an evidence file as
the last thing its code does. Kills land when the evidence has grown past 5 random
points of the run. Printed per database: tasks **lost** (their code never completed),
**doubled** (completed more than once), **failed** (a task instance not ``success`` at
the end, or the run not ``success``), and the time from the last kill to the run's end
(median, p95).

    .venv/bin/python bench/chaos_bench.py [--repeat 20] [--tasks 300] [--kills 5]
        [--only sqlite,postgres] [--postgres-repeat 10]
        [--postgres postgresql+psycopg://postgres@localhost:5432/postgres]
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from throughput_bench import own_database

FLOWSCHED = str(Path(sys.executable).with_name("flowsched"))

DAG_FILE = """
    import os
    import time
    import pendulum
    from flowsched import DAG, task

    def record(name):
        fd = os.open({evidence!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, f"{{name}} {{os.getpid()}} {{os.getppid()}} {{time.time():.3f}}\\n".encode())
        os.close(fd)

    with DAG("chaos", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        first = task(task_id="first")(record)("first")
        for i in range({tasks}):
            first >> task(task_id=f"t{{i:03}}")(record)(f"t{{i:03}}")
"""


@dataclass
class Outcome:
    lost: int
    doubled: int
    failed: int
    after_last_kill: float


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="repetitions on SQLite")
    parser.add_argument("--postgres-repeat", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument("--only", default="sqlite,postgres")
    parser.add_argument("--keep", action="store_true", help="keep each run's home folder")
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@localhost:5432/postgres"
    )
    args = parser.parse_args()
    print(f"1 -> {args.tasks} fan-out, {args.kills} kill -9 of the scheduler's group per run")
    for backend in args.only.split(","):
        repeat = args.repeat if backend == "sqlite" else args.postgres_repeat
        outcomes = []
        for n in range(repeat):
            with ExitStack() as stack:
                home = stack.enter_context(fresh_home(args))
                if backend == "postgres":
                    stack.enter_context(own_database(args.postgres))
                outcome = one_run(home, args)
            outcomes.append(outcome)
            print(f"  {backend} #{n + 1}: {outcome}", flush=True)
        report(backend, outcomes)


def report(backend: str, outcomes: list[Outcome]) -> None:
    times = sorted(o.after_last_kill for o in outcomes)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(
        f"{backend}: {len(outcomes)} runs: lost {sum(o.lost for o in outcomes)}, "
        f"doubled {sum(o.doubled for o in outcomes)}, failed {sum(o.failed for o in outcomes)}; "
        f"last kill -> run end: median {statistics.median(times):.1f} s, p95 {p95:.1f} s",
        flush=True,
    )


def one_run(home: Path, args: argparse.Namespace) -> Outcome:
    evidence = home / "ran.txt"
    dag = textwrap.dedent(DAG_FILE).format(evidence=str(evidence), tasks=args.tasks)
    (home / "dags" / "chaos.py").write_text(dag)
    subprocess.run([FLOWSCHED, "db", "upgrade"], check=True, capture_output=True)
    log = (home / "scheduler.out").open("ab")
    scheduler = start_scheduler(log)
    try:
        wait(lambda: cli("dags", "trigger", "chaos"), "the DAG to be parsed")
        rng = random.Random()
        for target in sorted(rng.sample(range(2, args.tasks * 4 // 5), args.kills)):
            wait(lambda n=target: len(counts(evidence)) >= n, "progress")
            time.sleep(rng.uniform(0, 0.2))
            os.killpg(scheduler.pid, signal.SIGKILL)
            if args.keep:
                print(f"  killed at {time.time():.3f}", flush=True)
            scheduler.wait()
            scheduler = start_scheduler(log)
        last_kill = time.monotonic()
        states = wait(lambda: run_end(), "the run to end", timeout=600)
        after = time.monotonic() - last_kill
    finally:
        scheduler.send_signal(signal.SIGTERM)
        scheduler.wait(60)
        log.close()
    ran = counts(evidence)
    run_state, ti_states = states
    failed = sum(1 for state in ti_states if state != "success") + (run_state != "success")
    return Outcome(
        lost=args.tasks + 1 - len(ran),
        doubled=sum(1 for n in ran.values() if n > 1),
        failed=failed,
        after_last_kill=after,
    )


def start_scheduler(log: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [FLOWSCHED, "scheduler"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def cli(*args: str) -> bool:
    return subprocess.run([FLOWSCHED, *args], capture_output=True).returncode == 0


def counts(evidence: Path) -> collections.Counter[str]:
    """Task id -> how many times its code completed (each line: id, pid, ppid, time)."""
    if not evidence.exists():
        return collections.Counter()
    return collections.Counter(line.split()[0] for line in evidence.read_text().splitlines())


def run_end() -> tuple[str, list[str | None]] | None:
    """(run state, task instance states) once the run has ended."""
    from sqlalchemy import select

    from flowsched.db import session_scope
    from flowsched.db.tables import DagRun, TaskInstance

    with session_scope(readonly=True) as session:
        state = session.scalar(select(DagRun.state).where(DagRun.dag_id == "chaos"))
        if state not in ("success", "failed"):
            return None
        tis = session.scalars(select(TaskInstance.state).where(TaskInstance.dag_id == "chaos"))
        return state, list(tis)


def wait(condition, what: str, timeout: float = 300):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"chaos bench: timed out waiting for {what}")
        time.sleep(0.2)


@contextmanager
def fresh_home(args: argparse.Namespace) -> Iterator[Path]:
    """A new home; with ``--keep`` it stays for a post-mortem (its path is printed)."""
    home = Path(tempfile.mkdtemp(prefix="flowsched-chaos-"))
    (home / "dags").mkdir()
    if args.keep:
        print(f"  home: {home}", flush=True)
    saved = dict(os.environ)
    os.environ.update(
        {
            "FLOWSCHED_HOME": str(home),
            "FLOWSCHED__CORE__DAGS_FOLDER": str(home / "dags"),
            "FLOWSCHED__CORE__PARALLELISM": str(args.parallelism),
            "FLOWSCHED__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
            "FLOWSCHED__SCHEDULER__DAG_DIR_LIST_INTERVAL": "1",
            "FLOWSCHED__LOGGING__LEVEL": "WARNING",
        }
    )
    try:
        yield home
    finally:
        from flowsched import db

        db.dispose_engines()
        os.environ.clear()
        os.environ.update(saved)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
