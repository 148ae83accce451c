"""`flowsched dags`: list, list-import-errors, show, next-runs, pause and unpause."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from flowsched.cli import cli
from flowsched.db import session_scope
from flowsched.db.tables import AuditLog, DagModel
from tests.parsing.dag_files import dag_source

FLOWSCHED = str(Path(sys.executable).parent / "flowsched")


def flowsched(*args: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, list(args))


def as_json(*args: str) -> list | dict:
    result = flowsched(*args, "--output", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def folder(migrated_db: Path, dags_folder: Path) -> Path:
    """A dags folder with two good DAGs: etl (a diamond, in a sub-folder) and report."""
    (dags_folder / "team").mkdir()
    (dags_folder / "team" / "etl.py").write_text(
        dag_source(
            "etl",
            tasks=1,
            schedule="'0 7 * * 0'",
            tags="['sales']",
            start_date="pendulum.datetime(2024, 1, 1, tz='Europe/Amsterdam')",
        )
        + "    a, b, end = (EmptyOperator(task_id=n) for n in ('a', 'b', 'end'))\n"
        + "    t0 >> [a, b] >> end\n"
    )
    (dags_folder / "report.py").write_text(dag_source("report", schedule="None"))
    return dags_folder


def test_list_shows_every_active_dag(folder: Path) -> None:
    table = flowsched("dags", "list")
    rows = as_json("dags", "list")

    assert table.exit_code == 0
    assert "team/etl.py" in table.stdout and "At 07:00 AM, only on Sunday" in table.stdout
    assert [(row["dag_id"], row["paused"], row["tags"]) for row in rows] == [
        ("etl", True, ["sales"]),
        ("report", True, []),
    ]
    assert rows[0]["fileloc"] == str(folder / "team" / "etl.py")
    assert rows[0]["schedule_expression"] == "0 7 * * 0"
    assert rows[1]["schedule"] == "Never, only when triggered"


def test_list_filters(folder: Path) -> None:
    flowsched("dags", "unpause", "report")
    (folder / "team" / "etl.py").unlink()

    def ids(*args: str) -> list[str]:
        return [row["dag_id"] for row in as_json("dags", "list", *args)]

    assert ids() == ["report"]
    assert ids("--include-inactive") == ["etl", "report"]
    assert ids("--include-inactive", "--paused") == ["etl"]
    assert ids("--unpaused") == ["report"]
    assert ids("--include-inactive", "--tag", "sales") == ["etl"]


def test_list_exits_1_and_says_so_when_files_fail_to_import(folder: Path) -> None:
    (folder / "broken.py").write_text("from flowsched import DAG\nDAG(\n")
    (folder / "raises.py").write_text("from flowsched import DAG\n1 / 0\n")

    result = flowsched("dags", "list")

    assert result.exit_code == 1
    assert "etl" in result.stdout and "report" in result.stdout
    assert result.stderr == (
        "Error: 2 DAG files fail to import; run `flowsched dags list-import-errors` to see why\n"
    )


def test_list_import_errors_as_table_json_and_tracebacks(folder: Path) -> None:
    assert flowsched("dags", "list-import-errors").stdout == "No import errors.\n"
    (folder / "raises.py").write_text("from flowsched import DAG\n1 / 0\n")

    table = flowsched("dags", "list-import-errors")
    [error] = as_json("dags", "list-import-errors")
    tracebacks = flowsched("dags", "list-import-errors", "--traceback")

    assert "raises.py" in table.stdout
    assert "ZeroDivisionError: division by zero (line 2)" in table.stdout
    assert error["fileloc"] == str(folder / "raises.py")
    assert error["message"] == "ZeroDivisionError: division by zero (line 2)"
    assert error["stacktrace"].endswith("ZeroDivisionError: division by zero\n")
    assert tracebacks.stdout.startswith("raises.py: ZeroDivisionError")
    assert "Traceback (most recent call last)" in tracebacks.stdout


def test_show_draws_the_tasks_as_a_tree(folder: Path) -> None:
    result = flowsched("dags", "show", "etl")

    assert result.exit_code == 0
    assert result.stdout == (
        "etl: At 07:00 AM, only on Sunday (0 7 * * 0)\n"
        "4 tasks, paused, in team/etl.py\n"
        "t0  [EmptyOperator]\n"
        "├── a  [EmptyOperator]\n"
        "│   └── end  [EmptyOperator]\n"
        "└── b  [EmptyOperator]\n"
        "    └── end  (see above)\n"
    )


def test_show_json_gives_tasks_and_edges(folder: Path) -> None:
    shown = as_json("dags", "show", "etl")

    assert [task["task_id"] for task in shown["tasks"]] == ["t0", "a", "b", "end"]
    assert shown["tasks"][0]["operator"] == "EmptyOperator"
    assert shown["edges"] == [["t0", "a"], ["t0", "b"], ["a", "end"], ["b", "end"]]
    assert (shown["schedule"], shown["timezone"]) == ("0 7 * * 0", "Europe/Amsterdam")


def test_next_runs_in_the_dag_zone_and_utc_marking_dst(
    migrated_db: Path, dags_folder: Path
) -> None:
    (dags_folder / "nightly.py").write_text(
        dag_source(
            "nightly",
            schedule="'30 2 * * *'",
            start_date="pendulum.datetime(2024, 1, 1, tz='Europe/Amsterdam')",
        )
    )
    args = ("dags", "next-runs", "nightly", "-n", "3", "--after", "2025-03-29T12:00")

    runs = as_json(*args)
    table = flowsched(*args)

    assert [run["run_after"] for run in runs] == [
        "2025-03-30T03:00:00+02:00",  # 02:30 does not exist that night: first instant after
        "2025-03-31T02:30:00+02:00",
        "2025-04-01T02:30:00+02:00",
    ]
    assert runs[0]["run_after_utc"] == "2025-03-30T01:00:00+00:00"
    assert runs[0]["logical_date"] == "2025-03-29T02:30:00+01:00"
    assert [run["moved_by_dst"] for run in runs] == [True, False, False]
    assert table.stdout.startswith("nightly: At 02:30 AM (30 2 * * *), in Europe/Amsterdam\n")
    assert "2025-03-30 03:00 CEST" in table.stdout and "moved by DST" in table.stdout


def test_next_runs_of_an_unscheduled_dag_says_there_are_none(folder: Path) -> None:
    result = flowsched("dags", "next-runs", "report")

    assert result.stdout == (
        "report: Never, only when triggered (None), in UTC\nNo upcoming runs.\n"
    )


def test_next_runs_refuses_a_bad_date(folder: Path) -> None:
    result = flowsched("dags", "next-runs", "etl", "--after", "next tuesday")

    assert result.exit_code == 1
    assert result.stderr == (
        "Error: --after: 'next tuesday' is not a date and time like 2025-03-29T00:00\n"
    )


def test_pause_and_unpause_change_the_flag_and_write_the_audit_log(folder: Path) -> None:
    unpaused = flowsched("dags", "unpause", "etl")
    again = flowsched("dags", "unpause", "etl")
    paused = flowsched("dags", "pause", "etl")

    assert unpaused.stdout == "DAG 'etl' unpaused.\n"
    assert again.stdout == "DAG 'etl' is already unpaused.\n"
    assert paused.stdout == "DAG 'etl' paused.\n"
    with session_scope(readonly=True) as session:
        assert session.get(DagModel, "etl").is_paused is True
        log = session.execute(select(AuditLog.user, AuditLog.event, AuditLog.dag_id)).all()
    assert log == [
        (f"cli:{getpass.getuser()}", "unpause", "etl"),
        (f"cli:{getpass.getuser()}", "pause", "etl"),
    ]


@pytest.mark.parametrize("command", ["show", "next-runs", "pause", "unpause"])
def test_an_unknown_dag_id_is_one_error_line(folder: Path, command: str) -> None:
    result = flowsched("dags", command, "nope")

    assert result.exit_code == 1
    assert result.stderr == "Error: no DAG named 'nope' (run `flowsched dags list`)\n"


def test_real_process_json_stays_clean_when_a_dag_file_prints(folder: Path) -> None:
    (folder / "chatty.py").write_text(dag_source("chatty", extra="print('hello')"))

    done = subprocess.run(
        [FLOWSCHED, "dags", "list", "-o", "json"], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    assert [row["dag_id"] for row in json.loads(done.stdout)] == ["chatty", "etl", "report"]
    assert "hello" in done.stderr


@pytest.mark.parametrize("group", ["dags", "variables", "connections", "pools"])
def test_real_process_on_a_database_not_upgraded(home: Path, group: str) -> None:
    done = subprocess.run(
        [FLOWSCHED, group, "list"], capture_output=True, text=True, check=False, env=os.environ
    )

    assert done.returncode == 1
    assert done.stderr == "Error: the database is empty: run `flowsched db upgrade` first\n"
    assert done.stdout == ""
