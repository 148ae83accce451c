"""Parsing benchmark: 1,000 DAG files of 5 tasks each, cold and unchanged.

    .venv/bin/python bench/parse_bench.py [--files 1000] [--repeat 3]

Each repetition uses a fresh FLOWSCHED_HOME (new SQLite DB, new dags folder), so "cold"
means: no DAG known, every file imported and written. The re-scan then runs on the same
folder with nothing changed. Medians are printed beside the targets.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

COLD_TARGET = 10.0
RESCAN_TARGET = 1.0

DAG_FILE = """\
import pendulum
from flowsched import DAG
from flowsched.operators.bash import BashOperator
from flowsched.operators.empty import EmptyOperator
from flowsched.operators.python import PythonOperator


def transform(**context):
    return context["ds"]


with DAG(
    "bench_{n:04d}",
    schedule="{minute} * * * *",
    start_date=pendulum.datetime(2024, 1, 1, tz="Europe/Amsterdam"),
    tags=["bench"],
    default_args={{"retries": 2}},
):
    start = EmptyOperator(task_id="start")
    extract = BashOperator(task_id="extract", bash_command="echo {{{{ ds }}}}")
    clean = PythonOperator(task_id="transform", python_callable=transform)
    load = BashOperator(task_id="load", bash_command="echo load")
    end = EmptyOperator(task_id="end")
    start >> extract >> clean >> load >> end
"""


def write_dag_files(folder: Path, count: int) -> None:
    for n in range(count):
        (folder / f"bench_{n:04d}.py").write_text(DAG_FILE.format(n=n, minute=n % 60))


def one_round(count: int) -> tuple[float, float]:
    """(cold scan seconds, unchanged re-scan seconds) in a fresh home."""
    with tempfile.TemporaryDirectory(prefix="flowsched-bench-") as tmp:
        home = Path(tmp)
        dags = home / "dags"
        dags.mkdir()
        os.environ["FLOWSCHED_HOME"] = str(home)
        os.environ["FLOWSCHED__CORE__DAGS_FOLDER"] = str(dags)
        from flowsched import db
        from flowsched.parsing.scan import parse_dags_folder

        db.dispose_engines()
        db.upgrade_db()
        write_dag_files(dags, count)
        cold = parse_dags_folder()
        if cold.errors or cold.parsed != count:
            sys.exit(f"cold scan did not load every file cleanly: {cold}")
        started = time.perf_counter()
        rescan = parse_dags_folder()
        rescan_seconds = time.perf_counter() - started
        if rescan.parsed:
            sys.exit(f"the unchanged re-scan imported files: {rescan}")
        db.dispose_engines()
        return cold.duration, rescan_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rounds = [one_round(args.files) for _ in range(args.repeat)]
    cold = statistics.median(r[0] for r in rounds)
    rescan = statistics.median(r[1] for r in rounds)
    print(f"{args.files} DAG files x 5 tasks, {os.cpu_count()} CPUs, median of {args.repeat}")
    print(f"  cold parse        {cold:7.3f} s   (target < {COLD_TARGET:g} s)")
    print(f"  unchanged re-scan {rescan:7.3f} s   (target < {RESCAN_TARGET:g} s)")


if __name__ == "__main__":
    main()
