"""Record what real Apache Airflow 2.10.5 does with its own example DAGs.

Run once, by hand, when the fixture must be refreshed (CI never runs it):

    python tests/airflow_compat/record_airflow_states.py --work /tmp/airflow-record

It builds a throw-away virtualenv with ``apache-airflow==2.10.5`` from PyPI, points
Airflow (SQLite, no examples loaded twice) at the example DAGs of that install, registers
them all (``airflow dags reserialize``, as a running scheduler would), runs
``airflow dags test <dag_id> 2025-01-01`` for every DAG found, and writes
each task instance's final state to ``airflow_2_10_5_states.json`` next to this script.
DAG files Airflow itself cannot import, and DAG runs it cannot finish, are recorded with
the reason, so the corpus test knows them from flowsched's own gaps.

Only the standard library is used here: the script must run before anything is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

AIRFLOW_VERSION = "2.10.5"
LOGICAL_DATE = "2025-01-01"
FIXTURE = Path(__file__).with_name("airflow_2_10_5_states.json")

# No constraints file is reachable from here, so pin what a plain resolve would get wrong
# for Airflow 2.10 (libraries that released breaking majors after 2.10.5 shipped).
PINS = [
    f"apache-airflow=={AIRFLOW_VERSION}",
    "apache-airflow-providers-fab<2",
    "apache-airflow-providers-common-sql<1.25",
    "apache-airflow-providers-common-io<1.6",
    "apache-airflow-providers-common-compat<1.7",
    "apache-airflow-providers-http<5.3",
    "apache-airflow-providers-ftp<3.13",
    "apache-airflow-providers-imap<3.9",
    "apache-airflow-providers-smtp<2.1",
    "apache-airflow-providers-sqlite<4.1",
    "flask-session<0.6",
    "connexion<3",
    "marshmallow<4",
    "pendulum>=3,<3.1",
    "sqlalchemy<2",
    "werkzeug<3",
]


def build_venv(venv: Path) -> Path:
    """Create the throw-away virtualenv with Airflow in it (reused if already complete)."""
    airflow = venv / "bin" / "airflow"
    if airflow.exists():
        return airflow
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, *PINS], check=True)
    return airflow


def airflow_env(home: Path, dags_folder: Path) -> dict[str, str]:
    """Environment for every airflow command: its own SQLite home, only the example DAGs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags_folder),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__UNIT_TEST_MODE="False",
        AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT="120",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
    )
    return env


def example_dags_folder(venv: Path) -> Path:
    """The example_dags folder of the installed Airflow (the files the corpus vendors)."""
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import airflow.example_dags as m; print(m.__path__[0])",
        ],
        check=True,
        capture_output=True,
        text=True,
        env={"AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PATH": os.environ["PATH"]},
    )
    return Path(out.stdout.strip().splitlines()[-1])


def list_dags(venv: Path, env: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """DAG id -> file name, and file name -> import error, as Airflow's DagBag sees them."""
    script = (
        "import json, os\n"
        "from airflow.models.dagbag import DagBag\n"
        "bag = DagBag(include_examples=False)\n"
        "dags = {d: os.path.basename(g.fileloc) for d, g in bag.dags.items()}\n"
        "errors = {os.path.basename(f): e.strip().splitlines()[-1]\n"
        "          for f, e in bag.import_errors.items()}\n"
        "print(json.dumps({'dags': dags, 'errors': errors}))\n"
    )
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    return found["dags"], found["errors"]


def run_states(db: Path, dag_id: str) -> dict[str, object] | None:
    """The final states of the run `dags test` made for LOGICAL_DATE, read from Airflow's DB."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT run_id, state FROM dag_run WHERE dag_id = ? AND execution_date LIKE ?",
            (dag_id, f"{LOGICAL_DATE} 00:00:00%"),
        ).fetchone()
        if row is None:
            return None
        run_id, run_state = row
        tis = conn.execute(
            "SELECT task_id, map_index, state, try_number FROM task_instance"
            " WHERE dag_id = ? AND run_id = ? ORDER BY task_id, map_index",
            (dag_id, run_id),
        ).fetchall()
    return {
        "run_state": run_state,
        "task_instances": {
            (task_id if map_index < 0 else f"{task_id}[{map_index}]"): state
            for task_id, map_index, state, _ in tis
        },
    }


def failure_reason(output: str) -> str:
    """The last error-looking line of a failed `airflow dags test`, for the fixture."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    for line in reversed(lines):
        if "Error" in line or "Exception" in line:
            return line[-300:]
    return lines[-1][-300:] if lines else "no output"


def record_dag(
    airflow: Path, env: dict[str, str], db: Path, dag_id: str, timeout: int, logs: Path
) -> dict:
    """Run one `airflow dags test` and return what it ended with (or why it could not)."""
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [str(airflow), "dags", "test", dag_id, LOGICAL_DATE],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )
        output, exit_code = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        output = (
            (exc.stdout or b"").decode() + (exc.stderr or b"").decode()
            if isinstance(exc.stdout, bytes)
            else ""
        )
        exit_code = None
    (logs / f"{dag_id}.log").write_text(output)
    result: dict[str, object] = {
        "exit_code": exit_code,
        "seconds": round(time.monotonic() - started, 1),
    }
    states = run_states(db, dag_id)
    if exit_code is None:
        result["not_run_by_airflow"] = f"`airflow dags test` did not finish within {timeout} s"
    elif states is None:
        result["not_run_by_airflow"] = failure_reason(output)
    if states is not None:
        result.update(states)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/airflow-record"))
    parser.add_argument("--timeout", type=int, default=300, help="seconds per `dags test`")
    parser.add_argument(
        "--only", nargs="*", help="record only these DAG ids (merged into the fixture)"
    )
    parser.add_argument("--out", type=Path, default=FIXTURE, help="where to write the fixture")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    airflow = build_venv(args.work / "venv")
    home, logs = args.work / "home", args.work / "logs"
    logs.mkdir(exist_ok=True)
    folder = example_dags_folder(args.work / "venv")
    env = airflow_env(home, folder)
    subprocess.run([str(airflow), "db", "migrate"], check=True, env=env, capture_output=True)
    # As a running scheduler would: every DAG in the DB, so that e.g. TriggerDagRunOperator
    # finds the DAG it triggers (`dags test` alone registers only the DAG it runs).
    subprocess.run([str(airflow), "dags", "reserialize"], check=True, env=env, capture_output=True)
    dag_files, import_errors = list_dags(args.work / "venv", env)
    previous = json.loads(args.out.read_text()) if args.only and args.out.exists() else {"dags": {}}
    fixture = {
        "airflow_version": AIRFLOW_VERSION,
        "command": f"airflow dags test <dag_id> {LOGICAL_DATE}",
        "python": sys.version.split()[0],
        "import_errors": import_errors,
        "dags": previous["dags"],
    }
    for dag_id in sorted(dag_files):
        if args.only and dag_id not in args.only:
            continue
        print(f"airflow dags test {dag_id} ...", flush=True)
        fixture["dags"][dag_id] = {
            "file": dag_files[dag_id],
            **record_dag(airflow, env, home / "airflow.db", dag_id, args.timeout, logs),
        }
        print(f"  -> {fixture['dags'][dag_id].get('run_state')}", flush=True)
    args.out.write_text(json.dumps(fixture, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
