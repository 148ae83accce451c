"""Scripts written for `airflow ...` run as `flowsched ...`: the common Airflow 2.10
invocations, in a runbook's order, against a fresh FLOWSCHED_HOME that starts with
`db migrate` -- each one's exit status and a fact of its output (JSON parsed for -o json)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml
from click.testing import CliRunner

from flowsched.cli import cli
from tests.runner.support import write_dag

FLOWSCHED = str(Path(sys.executable).parent / "flowsched")
DAG = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.bash import BashOperator

    with DAG("cli_demo", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), schedule="@daily"):
        BashOperator(task_id="hello", bash_command="echo hello {{ ds_nodash }}")
"""


def data(text: str) -> object:
    return json.loads(text)


def invocations(tmp: Path) -> list[tuple[str, int, Callable[[str], bool]]]:
    """(command line after `flowsched`, exit status, a fact its stdout -- its stderr when
    it fails -- must show)."""
    variables, connections, pools, users = (tmp / f"{n}.json" for n in ("v", "c", "p", "u"))
    return [
        ("db check", 0, lambda out: "current" in out),
        ("db check-migrations -t 0", 0, lambda out: "current" in out),
        ("version", 0, lambda out: out.strip()[0].isdigit()),
        ("info -o json", 0, lambda out: data(out)["executor"] == "local"),
        ("config get-value core executor", 0, lambda out: out == "local\n"),
        ("cheat-sheet", 0, lambda out: "flowsched db migrate" in out),
        ("dags list -o json", 0, lambda out: [d["dag_id"] for d in data(out)] == ["cli_demo"]),
        ("dags list-import-errors -o json", 0, lambda out: data(out) == []),
        ("dags details cli_demo -o json", 0, lambda out: data(out)["task_ids"] == ["hello"]),
        ("dags show cli_demo", 0, lambda out: "hello  [BashOperator]" in out),
        ("dags next-execution cli_demo -n 2", 0, lambda out: len(out.split()) == 2),
        ("dags report -o json", 0, lambda out: data(out)[0]["task_num"] == 1),
        ("dags reserialize", 0, lambda out: "Reserialized" in out),
        ("dags unpause cli_demo", 0, lambda out: "unpaused" in out),
        ("dags pause cli_demo", 0, lambda out: "paused" in out),
        ("dags trigger cli_demo -r my_run -c {\"x\":1}", 0, lambda out: "my_run" in out),
        ("dags list-runs -d cli_demo -o json", 0,
         lambda out: [(r["run_id"], r["state"]) for r in data(out)] == [("my_run", "queued")]),
        ("dags state cli_demo my_run", 0, lambda out: out == "queued\n"),
        ("dags trigger cli_demo --exec-date 2024-02-01 -r dated", 0,
         lambda out: "logical date 2024-02-01T00:00:00+00:00" in out),
        ("tasks list cli_demo", 0, lambda out: out == "hello\n"),
        ("tasks state cli_demo hello my_run", 0, lambda out: out == "None\n"),
        ("tasks states-for-dag-run cli_demo my_run -o json", 0,
         lambda out: [(t["task_id"], t["state"]) for t in data(out)] == [("hello", None)]),
        ("tasks render cli_demo hello 2024-01-02", 0, lambda out: "echo hello 20240102" in out),
        ("tasks test cli_demo hello 2024-01-02", 0, lambda out: "ended: success" in out),
        ("dags test cli_demo 2024-01-03", 0, lambda out: "success" in out.splitlines()[-1]),
        ("tasks clear cli_demo -y", 0, lambda out: "Cleared 1 task instance" in out),
        ("dags backfill cli_demo -s 2024-01-01 -e 2024-01-02 --dry-run -o json", 0,
         lambda out: len(data(out)) == 2),
        ("variables set env prod", 0, lambda out: "set" in out),
        ("variables get env", 0, lambda out: out == "prod\n"),
        ("variables list -o json", 0, lambda out: data(out)[0]["key"] == "env"),
        (f"variables export {variables}", 0,
         lambda out: data(variables.read_text()) == {"env": "prod"}),
        (f"variables import {variables} -a overwrite", 0, lambda out: "Imported 1 variable" in out),
        ("connections add my_pg --conn-uri postgresql://u:secret@db:5432/x", 0,
         lambda out: "added" in out),
        ("connections get my_pg -o json", 0, lambda out: data(out)["password"] == "***"),
        ("connections list -o json", 0, lambda out: data(out)[0]["host"] == "db"),
        (f"connections export {connections}", 0,
         lambda out: data(connections.read_text())["my_pg"]["password"] == "secret"),
        ("connections delete my_pg", 0, lambda out: "deleted" in out),
        (f"connections import {connections}", 0, lambda out: "Imported 1 connection" in out),
        ("pools set etl 3 ETL-jobs", 0, lambda out: "3 slots" in out),
        ("pools get etl -o json", 0, lambda out: data(out)[0]["description"] == "ETL-jobs"),
        ("pools list -o yaml", 0,
         lambda out: {p["pool"] for p in yaml.safe_load(out)} == {"default_pool", "etl"}),
        (f"pools export {pools}", 0, lambda out: data(pools.read_text())["etl"]["slots"] == 3),
        ("pools delete etl", 0, lambda out: "deleted" in out),
        (f"pools import {pools}", 0, lambda out: "Imported 2 pool" in out),
        ("users create --role Admin --username admin --password pw --firstname Peter "
         "--lastname Parker --email spiderman@superhero.org", 0, lambda out: "role admin" in out),
        ("users create --role Op --username op --password pw --firstname O --lastname P "
         "--email op@example.com", 0, lambda out: "role admin" in out),
        ("users add-role --username op --role Viewer", 0, lambda out: "role viewer" in out),
        ("users list -o json", 0,
         lambda out: {u["username"] for u in data(out)} == {"admin", "op"}),
        (f"users export {users}", 0, lambda out: len(data(users.read_text())) == 2),
        ("users delete --username op", 0, lambda out: "deleted" in out),
        (f"users import {users}", 0, lambda out: "Created 1 user(s), updated 1" in out),
        ("roles list -o json", 0,
         lambda out: {r["name"] for r in data(out)} == {"admin", "viewer"}),
        ("jobs check --job-type scheduler", 1, lambda err: "No alive scheduler job" in err),
        ("dags delete cli_demo -y", 0, lambda out: "Deleted DAG 'cli_demo'" in out),
        ("kerberos", 1, lambda err: "`flowsched kerberos` is not supported, because" in err),
    ]  # fmt: skip


def test_airflow_invocations_work_in_order_on_a_fresh_home(home, dags_folder, tmp_path):
    migrate = subprocess.run([FLOWSCHED, "db", "migrate"], capture_output=True, text=True)
    assert (migrate.returncode, "Database is at revision" in migrate.stdout) == (0, True)
    write_dag(dags_folder, "cli_demo", DAG)

    failures = []
    for line, status, fact in invocations(tmp_path):
        args = line.split(" ") if "{" in line else line.split()
        result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, args)
        try:
            shown = result.stdout if status == 0 else result.stderr
            ok = result.exit_code == status and fact(shown)
        except (ValueError, KeyError, IndexError, TypeError) as error:
            ok, result_note = False, repr(error)
        else:
            result_note = ""
        if not ok:
            failures.append(f"flowsched {line} -> {result.exit_code}: {result.output}{result_note}")

    assert failures == []
