"""``flowsched version``, ``info`` and ``cheat-sheet``: what is installed, where it keeps
its files, and every command on one page (as Airflow's commands of the same names)."""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterator
from importlib.metadata import version as installed_version

import click

from flowsched.cli.output import output_option, render, render_record


@click.command("version")
def version() -> None:
    """Print flowsched's version (as `airflow version`)."""
    click.echo(installed_version("flowsched"))


@click.command("info")
@output_option
def info(output: str) -> None:
    """Versions, paths, executor and database of this installation; secrets hidden.

    For bug reports, as `airflow info`: the database URL is shown without its password.
    """
    from sqlalchemy.engine import make_url

    from flowsched.config import conf, flowsched_home
    from flowsched.db import database_url

    url = make_url(database_url())
    render_record(
        {
            "flowsched_version": installed_version("flowsched"),
            "python_version": sys.version.split()[0],
            "platform": platform.platform(),
            "flowsched_home": str(flowsched_home()),
            "config_file": str(conf.config_file),
            "dags_folder": conf.get("core", "dags_folder"),
            "base_log_folder": conf.get("logging", "base_log_folder"),
            "executor": conf.get("core", "executor"),
            "database": url.render_as_string(hide_password=True),
            "database_dialect": url.get_backend_name(),
            "sqlalchemy_version": installed_version("sqlalchemy"),
        },
        output,
    )


@click.command("cheat-sheet")
@click.pass_context
def cheat_sheet(context: click.Context) -> None:
    """Every command with its one-line help (as `airflow cheat-sheet`)."""
    root = context.find_root().command
    assert isinstance(root, click.Group)
    rows = [
        {"command": f"flowsched {path}", "help": help_text}
        for path, help_text in _commands(root, context.find_root(), "")
    ]
    render(rows, ["command", "help"], "table")


def _commands(group: click.Group, context: click.Context, prefix: str) -> Iterator[tuple[str, str]]:
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if command is None or command.hidden:
            continue
        if isinstance(command, click.Group):
            yield from _commands(command, context, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command.get_short_help_str(limit=100)
