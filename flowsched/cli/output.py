"""Tables for people, JSON for scripts: every listing command renders through here."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import click

output_option = click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "json", "plain"]),
    default="table",
    show_default=True,
    help="table for people, json for scripts, plain for tab-separated lines.",
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _jsonable(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def render(rows: Iterable[Mapping[str, object]], columns: Sequence[str], output: str) -> None:
    rows = list(rows)
    if output == "json":
        data = [{c: _jsonable(row.get(c)) for c in columns} for row in rows]
        click.echo(json.dumps(data, indent=2, default=str))
        return
    if output == "plain":
        for row in rows:
            click.echo("\t".join(_cell(row.get(c)) for c in columns))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, show_lines=False)
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    Console(soft_wrap=True).print(table)
