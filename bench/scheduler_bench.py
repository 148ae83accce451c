"""Scheduler latency and scale (the targets in TARGETS), measured on a real scheduler process.

Starts `flowsched scheduler` with the LocalExecutor on a fresh SQLite home and triggers:

- a 20-task chain of no-op Python tasks: trigger-to-done and task-to-task latency
  (downstream start - upstream end, from the task instances' start and end dates);
- a 1 -> 200 -> 1 fan-out at parallelism 8: trigger-to-done;
- one run of 10,000 no-op tasks: it completes, and the scheduler's peak RSS.

"Trigger" is the moment the run row was queued (what `dags trigger` records), so the
CLI's own start-up is not counted. One unmeasured run of the chain and of the fan-out
comes first, so that the figures are those of workers that have imported the DAG files.
Prints median and p95 beside the targets.

    .venv/bin/python bench/scheduler_bench.py [--chain-runs 10] [--fanout-runs 5] [--no-10k]
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

FLOWSCHED = str(Path(sys.executable).with_name("flowsched"))

HEADER = """
    import pendulum
    from flowsched import DAG, task

    START = pendulum.datetime(2024, 1, 1)

    def noop():
        return None
"""
# One file per DAG: a worker imports the file of each try it runs, and the chain's tries
# must not pay for building the 10,000-task DAG.
DAGS = {
    "chain20": """
    with DAG("chain20", schedule=None, start_date=START, max_active_runs=1):
        previous = None
        for i in range(20):
            current = task(task_id=f"t{i:02}")(noop)()
            if previous is not None:
                previous >> current
            previous = current
""",
    "fanout200": """
    with DAG("fanout200", schedule=None, start_date=START, max_active_runs=1,
             max_active_tasks=1000):
        first, last = task(task_id="first")(noop)(), task(task_id="last")(noop)()
        for i in range(200):
            first >> task(task_id=f"m{i:03}")(noop)() >> last
""",
    "wide10k": """
    with DAG("wide10k", schedule=None, start_date=START, max_active_tasks=100000):
        for i in range(10000):
            task(task_id=f"w{i:05}")(noop)()
""",
}

TARGETS = {
    "chain20 trigger-to-done": "< 1 s",
    "chain20 task-to-task": "median < 10 ms, p95 < 50 ms",
    "fanout200 trigger-to-done": "< 3 s",
    "wide10k": "completes, scheduler RSS < 300 MB",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain-runs", type=int, default=10)
    parser.add_argument("--fanout-runs", type=int, default=5)
    parser.add_argument("--no-10k", action="store_true", help="Skip the 10,000-task run.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowsched-sched-bench-") as home:
        prepare(Path(home))
        scheduler = subprocess.Popen(
            [FLOWSCHED, "scheduler"],
            stdout=(Path(home) / "scheduler.out").open("w"),
            stderr=subprocess.STDOUT,
        )
        try:
            rows = measure(args, scheduler.pid)
        finally:
            scheduler.send_signal(signal.SIGTERM)
            scheduler.wait(120)
    print_table(rows)


def prepare(home: Path) -> None:
    os.environ.update(
        {
            "FLOWSCHED_HOME": str(home),
            "FLOWSCHED__CORE__DAGS_FOLDER": str(home / "dags"),
            "FLOWSCHED__CORE__PARALLELISM": "8",
            "FLOWSCHED__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
            "FLOWSCHED__CORE__DEFAULT_POOL_SLOTS": "100000",
            "FLOWSCHED__LOGGING__LEVEL": "WARNING",
        }
    )
    (home / "dags").mkdir()
    for dag_id, body in DAGS.items():
        (home / "dags" / f"{dag_id}.py").write_text(textwrap.dedent(HEADER + body))
    subprocess.run([FLOWSCHED, "db", "upgrade"], check=True, capture_output=True)
    subprocess.run([FLOWSCHED, "dags", "list"], check=True, capture_output=True)


def measure(args: argparse.Namespace, scheduler_pid: int) -> list[tuple[str, str, str, str]]:
    rows = []
    run_once("chain20")  # warm-up: the workers import the DAG files once
    run_once("fanout200")
    chain = [run_once("chain20") for _ in range(args.chain_runs)]
    total = [seconds for seconds, _ in chain]
    gaps = [gap for _, run_gaps in chain for gap in run_gaps]
    rows.append(("chain20 trigger-to-done", *stats(total, "s"), f"{len(total)} runs"))
    rows.append(("chain20 task-to-task", *stats(gaps, "ms", 1000), f"{len(gaps)} edges"))
    fanout = [run_once("fanout200")[0] for _ in range(args.fanout_runs)]
    rows.append(("fanout200 trigger-to-done", *stats(fanout, "s"), f"{len(fanout)} runs"))
    if not args.no_10k:
        seconds, _ = run_once("wide10k", timeout=3600)
        peak = peak_rss_mb(scheduler_pid)
        rows.append(("wide10k", f"done in {seconds:.0f} s", f"peak RSS {peak:.0f} MB", "1 run"))
    return rows


def run_once(dag_id: str, timeout: float = 300) -> tuple[float, list[float]]:
    """Trigger a run, wait for it; (trigger-to-done seconds, chain gaps in seconds)."""
    run_id = f"bench_{time.time_ns()}"
    subprocess.run(
        [FLOWSCHED, "dags", "trigger", dag_id, "--run-id", run_id], check=True, capture_output=True
    )
    deadline = time.monotonic() + timeout
    while (run := load_run(dag_id, run_id)).state not in ("success", "failed"):
        if time.monotonic() > deadline:
            raise SystemExit(f"{dag_id} run {run_id} did not finish in {timeout} s")
        time.sleep(0.05)
    if run.state != "success":
        raise SystemExit(f"{dag_id} run {run_id} failed")
    return (run.end_date - run.queued_at).total_seconds(), chain_gaps(dag_id, run_id)


def load_run(dag_id: str, run_id: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from flowsched.db import session_scope
    from flowsched.db.tables import DagRun

    with session_scope(readonly=True) as session:
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
        ).one()
        session.expunge(run)
        return run


def chain_gaps(dag_id: str, run_id: str) -> list[float]:
    """Downstream start - upstream end along a chain (empty for other shapes)."""
    if dag_id != "chain20":
        return []
    from sqlalchemy import select

    from flowsched.db import session_scope
    from flowsched.db.tables import TaskInstance

    with session_scope(readonly=True) as session:
        rows = session.execute(
            select(TaskInstance.start_date, TaskInstance.end_date)
            .where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
            .order_by(TaskInstance.task_id)
        ).all()
    return [(down[0] - up[1]).total_seconds() for up, down in itertools.pairwise(rows)]


def stats(values: list[float], unit: str, scale: float = 1.0) -> tuple[str, str]:
    ordered = sorted(v * scale for v in values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):.3g} {unit}", f"p95 {p95:.3g} {unit}"


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    header = ("measure", "figure", "", "sample", "target")
    lines = [header, *[(*row, TARGETS[row[0]]) for row in rows]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


if __name__ == "__main__":
    main()
