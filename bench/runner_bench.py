"""Per-try overhead of the LocalExecutor: ``queue_task`` to its event, for no-op tasks.

Each try is a fresh task instance of a no-op ``@task`` queued as the scheduler leaves
it; the time measured covers everything between the scheduler handing the key over and
it hearing the outcome: dispatch to a worker, claiming the try, fork, log file, context,
running the callable, recording the state, reporting back. Tries run one at a time, so
that figure is latency; a second figure is throughput: a burst of tries queued at once.

    .venv/bin/python bench/runner_bench.py [--tries 300] [--parallelism 2] [--burst 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DAG_FILE = """
    import pendulum
    from flowsched import DAG, task

    with DAG("bench", start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
        @task
        def noop():
            return None

        noop()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=300)
    parser.add_argument("--parallelism", type=int, default=2)
    parser.add_argument("--burst", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowsched-runner-bench-") as home:
        os.environ["FLOWSCHED_HOME"] = home
        os.environ["FLOWSCHED__CORE__DAGS_FOLDER"] = f"{home}/dags"
        fileloc = prepare(Path(home))
        times = measure(fileloc, args.tries, args.parallelism)
        burst = measure_burst(fileloc, args.burst, args.parallelism)
    warm = times[10:]  # the first tries import the DAG file and warm the caches
    print(
        f"LocalExecutor per-try overhead ({len(warm)} no-op tries, parallelism "
        f"{args.parallelism}): median {statistics.median(warm):.1f} ms, "
        f"p95 {percentile(warm, 95):.1f} ms, max {max(warm):.1f} ms"
    )
    print(
        f"LocalExecutor burst: {args.burst} no-op tries queued at once, parallelism "
        f"{args.parallelism}: all done in {burst:.2f} s ({args.burst / burst:.0f} tries/s)"
    )


def prepare(home: Path) -> str:
    from flowsched import db
    from flowsched.db import session_scope
    from flowsched.db.tables import DagRun

    db.upgrade_db()
    (home / "dags").mkdir()
    path = home / "dags" / "bench.py"
    path.write_text(textwrap.dedent(DAG_FILE))
    now = datetime(2024, 3, 1, tzinfo=UTC)
    with session_scope() as session:
        session.add(
            DagRun(
                dag_id="bench",
                run_id="bench",
                run_type="manual",
                logical_date=now,
                data_interval_start=now,
                data_interval_end=now,
                state="running",
                conf={},
            )
        )
    return str(path)


def measure(fileloc: str, tries: int, parallelism: int) -> list[float]:
    """Milliseconds from queue_task to the try's event, one try at a time."""
    from flowsched.executors.local import LocalExecutor
    from flowsched.tries import TaskKey

    executor = LocalExecutor(parallelism=parallelism)
    executor.start()
    times = []
    try:
        for number in range(1, tries + 1):
            key = TaskKey("bench", "bench", "noop", -1, number)
            queue(key)
            started = time.perf_counter()
            executor.queue_task(key, fileloc)
            events = executor.wait_for_events(timeout=60)
            times.append((time.perf_counter() - started) * 1000)
            assert [event.state for event in events] == ["success"], events
    finally:
        executor.end()
    return times


def measure_burst(fileloc: str, tries: int, parallelism: int) -> float:
    """Seconds from queueing ``tries`` instances (map indexes) at once to their last event."""
    from flowsched.executors.local import LocalExecutor
    from flowsched.tries import TaskKey

    keys = [TaskKey("bench", "bench", "noop", index, 1) for index in range(tries)]
    for key in keys:
        queue(key)
    executor = LocalExecutor(parallelism=parallelism)
    executor.start()
    try:
        started = time.perf_counter()
        for key in keys:
            executor.queue_task(key, fileloc)
        done = 0
        while done < tries:
            done += len(executor.wait_for_events(timeout=60))
        return time.perf_counter() - started
    finally:
        executor.end()


def queue(key: Any) -> None:
    """Leave the task instance queued for this try, as the scheduler does."""
    from flowsched.db import session_scope
    from flowsched.db.tables import TaskInstance

    with session_scope() as session:
        row = session.get(TaskInstance, ("bench", "bench", "noop", key.map_index))
        if row is None:
            row = TaskInstance(
                dag_id="bench", run_id="bench", task_id="noop", map_index=key.map_index
            )
            session.add(row)
        row.state, row.try_number = "queued", key.try_number


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


if __name__ == "__main__":
    main()
