"""Tables for people, JSON for scripts: every listing command renders through here."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import click

output_option = click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "json", "yaml", "plain"]),
    default="table",
    show_default=True,
    help="table for people, json or yaml for scripts, plain for tab-separated lines.",
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


def _serialized(data: object, output: str) -> str:
    if output == "yaml":
        import yaml

        return yaml.safe_dump(json.loads(json.dumps(data, default=str)), sort_keys=False)
    return json.dumps(data, indent=2, default=str)


def render_record(record: Mapping[str, object], output: str) -> None:
    """One object (a DAG's details, the installation's info): a field/value table for
    people, the object itself in json or yaml."""
    if output in ("json", "yaml"):
        click.echo(_serialized({k: _jsonable(v) for k, v in record.items()}, output))
        return
    render([{"field": k, "value": v} for k, v in record.items()], ["field", "value"], output)


def render(rows: Iterable[Mapping[str, object]], columns: Sequence[str], output: str) -> None:
    rows = list(rows)
    if output in ("json", "yaml"):
        data = [{c: _jsonable(row.get(c)) for c in columns} for row in rows]
        click.echo(_serialized(data, output))
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
