"""Every CLI command, given plausible arguments, ends in output or one error line: never a
traceback -- with no database, with an empty one, and with a paused DAG's fresh run."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from pathlib import Path

import click
from click.testing import CliRunner

from flowsched.cli import cli
from flowsched.cli.errors import run_guarded
from tests.runner.support import write_dag

# Long-running servers: started as real processes by the e2e tests instead.
SERVERS = {"scheduler", "standalone", "webserver", "worker", "celery"}
# Replace this process with another program (os.exec): run as subprocesses in their own tests.
EXECS = {("db", "shell")}
# Run after the rest, so that "no database" stays true for the others.
LAST = ("db upgrade", "db migrate", "db reset")

DEMO_DAG = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.bash import BashOperator

    with DAG("cli_demo", start_date=pendulum.datetime(2024, 1, 1, tz="UTC"), schedule="@daily"):
        BashOperator(task_id="hello", bash_command="echo hello")
"""


def plausible_values(tmp: Path) -> dict[str, str]:
    """A value for each argument or required option, by its parameter name."""
    (tmp / "in.json").write_text("{}")
    (tmp / "crontab").write_text("0 2 * * * /bin/true\n")
    return {
        "dag_id": "cli_demo", "task_id": "hello", "run_id": "my_run", "map_index": "-1",
        "logical_date": "2024-01-02", "start": "2024-01-01", "end": "2024-01-02",
        "section": "core", "key": "dags_folder", "value": "v", "conn_id": "my_conn",
        "name": "etl", "slots": "3", "description": "d", "username": "ana", "role": "Admin",
        "password": "pw", "firstname": "Ana", "lastname": "Lee", "email": "ana@example.com",
        "file": str(tmp / "in.json"), "filepath": str(tmp / "in.json"),
        "crontab_file": str(tmp / "crontab"), "command": "version",
    }  # fmt: skip


def leaf_commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        skip = (not path and name in SERVERS) or (*path, name) in EXECS
        if command is None or skip or command.hidden:
            continue
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*path, name))
        else:
            yield (*path, name)


def command_line(path: tuple[str, ...], values: dict[str, str]) -> list[str]:
    context = click.Context(cli)
    command: click.Command = cli
    for name in path:
        command = command.get_command(context, name)  # type: ignore[attr-defined]
    args = list(path)
    for param in command.params:
        if isinstance(param, click.Argument) and (param.required or param.name in values):
            args.append(values[param.name])  # type: ignore[index]
        elif isinstance(param, click.Option) and param.required:
            args += [param.opts[0], values[param.name]]  # type: ignore[index]
    return args


def tracebacks(tmp: Path) -> list[str]:
    """Each command line that let an exception out, with the exception."""
    values = plausible_values(tmp)
    paths = sorted(leaf_commands(cli), key=lambda path: " ".join(path) in LAST)
    found = []
    for path in paths:
        args = command_line(path, values)
        with CliRunner().isolation(input="n\n") as (stdout, stderr, _):
            try:
                run_guarded(cli, args)
            except Exception:  # finding these is the point
                found.append(f"flowsched {' '.join(args)}\n{traceback.format_exc()}")
                continue
        printed = stdout.getvalue() + stderr.getvalue()
        if b"Traceback (most recent call last)" in printed:
            found.append(f"flowsched {' '.join(args)}\n{printed.decode()}")
    return found


def test_no_command_prints_a_traceback_without_a_database(home, tmp_path):
    assert tracebacks(tmp_path) == []


def test_no_command_prints_a_traceback_on_an_empty_database(migrated_db, tmp_path):
    assert tracebacks(tmp_path) == []


def test_no_command_prints_a_traceback_about_a_paused_dags_fresh_run(
    migrated_db, dags_folder, tmp_path
):
    write_dag(dags_folder, "cli_demo", DEMO_DAG)
    assert run_guarded(cli, ["dags", "trigger", "cli_demo", "--run-id", "my_run"]) == 0

    assert tracebacks(tmp_path) == []
