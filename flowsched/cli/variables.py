"""``flowsched variables``: the key/value settings DAG files read with ``Variable.get``."""

from __future__ import annotations

import json
from typing import Any, Literal

import click
from sqlalchemy import select

from flowsched import json_text
from flowsched.cli.errors import fail
from flowsched.cli.files import parse_json, read_text, write_text
from flowsched.cli.lookups import operate, reading
from flowsched.cli.output import output_option, render
from flowsched.db import require_current_schema
from flowsched.db.tables import Variable
from flowsched.masking import MASK, is_sensitive
from flowsched.operations import variables as variable_ops


@click.group()
def variables() -> None:
    """Get, set, list, delete, import and export variables."""


def _no_such_variable(key: str) -> str:
    return f"no variable named {key!r} (run `flowsched variables list`)"


@variables.command("get")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="The value is JSON: print it indented.")
@click.option("--default", help="Print this when the variable does not exist, instead of failing.")
def get_variable(key: str, as_json: bool, default: str | None) -> None:
    """Print a variable's value (FLOWSCHED_VAR_<KEY> in the environment wins over the DB)."""
    require_current_schema()
    try:
        value = Variable.get(key, deserialize_json=as_json)
    except KeyError:
        if default is None:
            fail(_no_such_variable(key))
        value = default
    except json.JSONDecodeError as exc:
        fail(f"variable {key!r} is not valid JSON ({exc.msg}); drop --json to see it")
    click.echo(json.dumps(value, indent=2) if as_json else value)


@variables.command("set")
@click.argument("key")
@click.argument("value")
@click.option("--description", help="What the variable is for.")
@click.option("--json", "as_json", is_flag=True, help="Check that VALUE is valid JSON first.")
def set_variable(key: str, value: str, description: str | None, as_json: bool) -> None:
    """Create or change a variable."""
    if as_json:
        parse_json(value, "VALUE")
    operate(variable_ops.set_variable, key, value, description=description)
    click.echo(f"Variable {key!r} set.")


@variables.command("list")
@output_option
def list_variables(output: str) -> None:
    """Every variable in the database; values of sensitive keys (password, token ...) masked."""
    with reading() as session:
        rows = [
            {
                "key": row.key,
                "value": MASK if is_sensitive(row.key) else row.val,
                "description": row.description,
            }
            for row in session.scalars(select(Variable).order_by(Variable.key))
        ]
    render(rows, ["key", "value", "description"], output)


@variables.command("delete")
@click.argument("key")
def delete_variable(key: str) -> None:
    """Delete a variable from the database."""
    operate(variable_ops.delete_variable, key)
    click.echo(f"Variable {key!r} deleted.")


@variables.command("import")
@click.argument("file")
@click.option(
    "--if-exists",
    "-a",
    "--action-on-existing-key",
    "if_exists",
    type=click.Choice(["overwrite", "skip", "fail"]),
    default="overwrite",
    show_default=True,
    help="What to do with a key that already exists.",
)
def import_variables(file: str, if_exists: Literal["overwrite", "skip", "fail"]) -> None:
    """Load variables from a JSON object {"key": value, ...} (FILE "-" reads stdin).

    String values are stored as they are; other values (numbers, lists, objects) as JSON,
    so `variables get KEY --json` and `Variable.get(KEY, deserialize_json=True)` read them.
    """
    require_current_schema()
    loaded = parse_json(read_text(file), file)
    if not isinstance(loaded, dict):
        fail(f"{file}: expected a JSON object of key: value, got a JSON {type(loaded).__name__}")
    done, skipped = operate(variable_ops.import_variables, loaded, if_exists=if_exists)
    written = len(done)
    suffix = f" ({len(skipped)} existing skipped)" if skipped else ""
    click.echo(f"Imported {written} variable{'' if written == 1 else 's'}{suffix}.")


@variables.command("export")
@click.argument("file")
def export_variables(file: str) -> None:
    """Write every variable to FILE as a JSON object ("-" for stdout).

    A value holding a JSON object or list is written as that structure (readable, and
    `import` stores it back as JSON); any other value is written as the string it is, so
    export then import gives back exactly the same text.
    """
    with reading() as session:
        data = {row.key: _exported(row.val) for row in session.scalars(select(Variable))}
    text = json.dumps(dict(sorted(data.items())), indent=2) + "\n"
    write_text(file, text, f"{len(data)} variable{'' if len(data) == 1 else 's'}")


def _exported(text: str) -> Any:
    try:
        value = json_text.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict | list) else text
