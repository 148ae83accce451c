"""Throughput of a 500-task fan-out (1 -> 498 -> 1 no-op Python tasks), in tasks per second,
for three set-ups, each on a fresh FLOWSCHED_HOME with a real `flowsched scheduler`:

- LocalExecutor on SQLite;
- LocalExecutor on PostgreSQL;
- CeleryExecutor with two `flowsched worker`s on PostgreSQL + Redis.

All use the same parallelism (default 8; the Celery workers get half of it each). The
PostgreSQL set-ups create their own database and drop it after; the Celery set-up uses a
queue of its own on the Redis broker and deletes it after. Each set-up runs one warm-up
run (DAG imports in the worker processes), then ``--runs`` measured runs; a run's time is
from its trigger (the run row's ``queued_at``) to its end.

    .venv/bin/python bench/throughput_bench.py [--runs 3] [--parallelism 8]
        [--postgres postgresql+psycopg://postgres@localhost:5432/postgres]
        [--redis redis://localhost:6379/0] [--only local-sqlite,local-postgres,celery]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

FLOWSCHED = str(Path(sys.executable).with_name("flowsched"))
TASKS = 500
DAG_ID = "fanout500"

DAG_FILE = f"""
    import pendulum
    from flowsched import DAG, task

    def noop():
        return None

    with DAG("{DAG_ID}", schedule=None, start_date=pendulum.datetime(2024, 1, 1),
             max_active_runs=1, max_active_tasks=100000):
        first, last = task(task_id="first")(noop)(), task(task_id="last")(noop)()
        for i in range({TASKS - 2}):
            first >> task(task_id=f"m{{i:03}}")(noop)() >> last
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@localhost:5432/postgres"
    )
    parser.add_argument("--redis", default="redis://localhost:6379/0")
    parser.add_argument("--only", default="local-sqlite,local-postgres,celery")
    args = parser.parse_args()
    setups: dict[str, Callable[[argparse.Namespace], list[float]]] = {
        "local-sqlite": local_sqlite,
        "local-postgres": local_postgres,
        "celery": celery_postgres_redis,
    }
    print(f"{TASKS}-task fan-out, parallelism {args.parallelism}, {os.cpu_count()} CPUs")
    for name in args.only.split(","):
        seconds = setups[name](args)
        median = statistics.median(seconds)
        runs = ", ".join(f"{s:.2f}" for s in seconds)
        print(f"  {name:15} {TASKS / median:7.1f} tasks/s  (median {median:.2f} s; runs {runs})")


# --- set-ups ---------------------------------------------------------------------------


def local_sqlite(args: argparse.Namespace) -> list[float]:
    with fresh_home(args, executor="local") as home:
        prepare_database()
        return measure(home, args.runs)


def local_postgres(args: argparse.Namespace) -> list[float]:
    with fresh_home(args, executor="local") as home, own_database(args.postgres):
        prepare_database()
        return measure(home, args.runs)


def celery_postgres_redis(args: argparse.Namespace) -> list[float]:
    with (
        fresh_home(args, executor="celery") as home,
        own_database(args.postgres),
        own_queue(args.redis),
    ):
        prepare_database()
        half = str(max(1, args.parallelism // 2))
        names = [f"bench-{n}@{socket.gethostname()}" for n in (1, 2)]
        workers = [
            spawn(home, name, "worker", "--concurrency", half, "--hostname", name) for name in names
        ]
        try:
            wait_for_workers(names)
            return measure(home, args.runs)
        finally:
            stop(workers)


# --- one home, one database, one queue --------------------------------------------------


@contextmanager
def fresh_home(args: argparse.Namespace, executor: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="flowsched-throughput-") as folder:
        home = Path(folder)
        (home / "dags").mkdir()
        (home / "dags" / "fanout.py").write_text(textwrap.dedent(DAG_FILE))
        saved = dict(os.environ)
        os.environ.update(
            {
                "FLOWSCHED_HOME": str(home),
                "FLOWSCHED__CORE__DAGS_FOLDER": str(home / "dags"),
                "FLOWSCHED__CORE__EXECUTOR": executor,
                "FLOWSCHED__CORE__PARALLELISM": str(args.parallelism),
                "FLOWSCHED__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
                "FLOWSCHED__CORE__DEFAULT_POOL_SLOTS": "100000",
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


@contextmanager
def own_database(admin_url: str) -> Iterator[None]:
    from sqlalchemy import create_engine, text

    from flowsched import db

    name = f"flowsched_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    os.environ["FLOWSCHED__DATABASE__SQL_ALCHEMY_CONN"] = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield
    finally:
        db.dispose_engines()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def own_queue(broker_url: str) -> Iterator[None]:
    from kombu import Exchange, Queue

    from flowsched.executors.celery_app import create_app

    name = f"flowsched-bench-{uuid.uuid4().hex[:10]}"
    os.environ["FLOWSCHED__CELERY__BROKER_URL"] = broker_url
    os.environ["FLOWSCHED__CELERY__DEFAULT_QUEUE"] = name
    try:
        yield
    finally:
        app = create_app()
        with app.connection_for_write() as connection:
            queue = Queue(name, Exchange(name, type="direct"), routing_key=name)
            bound = queue(connection.default_channel)
            bound.declare()  # kombu deletes only what this channel has declared
            bound.delete()
            bound.exchange.delete()
        app.close()


# --- processes and runs ----------------------------------------------------------------


def spawn(home: Path, label: str, *args: str) -> subprocess.Popen[bytes]:
    with (home / f"{label}.out").open("wb") as output:
        return subprocess.Popen([FLOWSCHED, *args], stdout=output, stderr=subprocess.STDOUT)


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(120)


def wait_for_workers(names: list[str]) -> None:
    """Until the workers answer a ping (so their start-up is not measured)."""
    from flowsched.executors.celery_app import create_app

    app = create_app()
    try:
        while len(app.control.ping(destination=names, timeout=1.0)) < len(names):
            time.sleep(0.2)
    finally:
        app.close()


def prepare_database() -> None:
    """Schema, and the DAG parsed (so the scheduler's first pass finds it)."""
    subprocess.run([FLOWSCHED, "db", "upgrade"], check=True, capture_output=True)
    subprocess.run([FLOWSCHED, "dags", "list"], check=True, capture_output=True)


def measure(home: Path, runs: int) -> list[float]:
    scheduler = spawn(home, "scheduler", "scheduler")
    try:
        run_once()  # warm-up
        return [run_once() for _ in range(runs)]
    finally:
        stop([scheduler])


def run_once(timeout: float = 600) -> float:
    """Trigger a run and wait for it; seconds from trigger to end."""
    run_id = f"bench_{time.time_ns()}"
    subprocess.run(
        [FLOWSCHED, "dags", "trigger", DAG_ID, "--run-id", run_id], check=True, capture_output=True
    )
    deadline = time.monotonic() + timeout
    while (run := load_run(run_id)).state not in ("success", "failed"):
        if time.monotonic() > deadline:
            raise SystemExit(f"run {run_id} did not finish in {timeout} s")
        time.sleep(0.05)
    if run.state != "success":
        raise SystemExit(f"run {run_id} failed: {failed_tries(run_id)}")
    return (run.end_date - run.queued_at).total_seconds()


def load_run(run_id: str):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from flowsched.db import session_scope
    from flowsched.db.tables import DagRun

    with session_scope(readonly=True) as session:
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == DAG_ID, DagRun.run_id == run_id)
        ).one()
        session.expunge(run)
        return run


def failed_tries(run_id: str) -> list[tuple[str, str | None]]:
    """(task id, error) of the tries that failed, for the message of a failed run."""
    from sqlalchemy import select

    from flowsched.db import session_scope
    from flowsched.db.tables import TaskInstanceHistory as Try

    with session_scope(readonly=True) as session:
        query = select(Try.task_id, Try.error).where(Try.run_id == run_id, Try.error.is_not(None))
        return [tuple(row) for row in session.execute(query)]


if __name__ == "__main__":
    main()
