"""How fast is the grid of a DAG with a long history? (Target: under 300 ms.)

Fills a fresh SQLite database with one DAG of 50 tasks and 1,000 finished runs (50,000
task instances), then times the grid page and its JSON endpoint through the Flask app,
signed in as an admin, and prints the median and p95 server time of each.

    .venv/bin/python bench/grid_bench.py [--runs 1000] [--tasks 50] [--repeat 30]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowsched-grid-bench-") as home:
        os.environ["FLOWSCHED_HOME"] = home
        from flowsched import db

        db.upgrade_db()
        started = time.perf_counter()
        fill(args.runs, args.tasks)
        print(
            f"filled {args.runs} runs x {args.tasks} tasks in {time.perf_counter() - started:.1f}s"
        )
        client = signed_in_client()
        for path in ("/dags/bench/grid", "/dags/bench/grid.json"):
            times = measure(client, path, args.repeat)
            print(
                f"{path:24} median {statistics.median(times):6.1f} ms   "
                f"p95 {percentile(times, 95):6.1f} ms   ({args.repeat} requests)"
            )
        db.dispose_engines()


def fill(runs: int, tasks: int) -> None:
    """One DAG (a chain of tasks), its runs and every task instance, in bulk inserts."""
    from sqlalchemy import insert

    from flowsched.db import session_scope
    from flowsched.db.tables import DagModel, DagRun, SerializedDagModel, TaskInstance

    task_ids = [f"task_{i:02d}" for i in range(tasks)]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with session_scope() as session:
        session.add(DagModel(dag_id="bench", fileloc="/dags/bench.py", is_paused=False))
        session.flush()
        session.add(
            SerializedDagModel(
                dag_id="bench",
                fileloc="/dags/bench.py",
                data=structure(task_ids),
                dag_hash="0" * 64,
            )
        )
        run_rows, ti_rows = [], []
        for n in range(runs):
            logical = start + timedelta(hours=n)
            run_id = f"scheduled__{logical.isoformat()}"
            run_rows.append(
                {
                    "dag_id": "bench",
                    "run_id": run_id,
                    "run_type": "scheduled",
                    "logical_date": logical,
                    "state": "failed" if n % 17 == 0 else "success",
                    "start_date": logical + timedelta(hours=1),
                    "end_date": logical + timedelta(hours=1, minutes=3),
                    "conf": {},
                }
            )
            for i, task_id in enumerate(task_ids):
                ti_rows.append(
                    {
                        "dag_id": "bench",
                        "run_id": run_id,
                        "task_id": task_id,
                        "map_index": -1,
                        "try_number": 1,
                        "state": "failed" if n % 17 == 0 and i == tasks // 2 else "success",
                        "start_date": logical + timedelta(hours=1, seconds=i),
                        "end_date": logical + timedelta(hours=1, seconds=i + 1),
                        "duration": 1.0,
                    }
                )
        session.execute(insert(DagRun), run_rows)
        session.execute(insert(TaskInstance), ti_rows)


def structure(task_ids: list[str]) -> dict:
    tasks = [
        {
            "task_id": task_id,
            "operator": "EmptyOperator",
            "upstream": task_ids[i - 1 : i],
            "downstream": task_ids[i + 1 : i + 2],
        }
        for i, task_id in enumerate(task_ids)
    ]
    return {"dag_id": "bench", "schedule": {"kind": "cron", "expr": "0 * * * *"}, "tasks": tasks}


def signed_in_client():  # type: ignore[no-untyped-def]
    from flowsched.db import session_scope
    from flowsched.operations.users import create_user
    from webui.app import create_app

    with session_scope() as session:
        create_user(session, "bench", "bench", "admin", actor="bench")
    client = create_app().test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "bench", "password": "bench", "csrf_token": token})
    return client


def measure(client, path: str, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    client.get(path)  # warm caches (templates, SQLAlchemy statement cache)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return times


def percentile(values: list[float], pct: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
