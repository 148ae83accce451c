"""``flowsched pools``: named limits on how many task slots run at once.

``default_pool`` always exists: tasks that name no pool use it, so it is created with
``core.default_pool_slots`` the first time it is needed and can be resized, never deleted.
"""

from __future__ import annotations

import json

import click

from flowsched.cli.errors import fail
from flowsched.cli.files import parse_json, read_text, write_text
from flowsched.cli.lookups import cli_user, operate, reading
from flowsched.cli.output import output_option, render
from flowsched.db import require_current_schema, session_scope
from flowsched.operations import pools as pool_ops


@click.group()
def pools() -> None:
    """Set, list and delete pools."""


@pools.command("set")
@click.argument("name")
@click.argument("slots", type=click.IntRange(min=0))
@click.argument("description_argument", metavar="[DESCRIPTION]", required=False)
@click.option("--description", help="What the pool limits (or give it as DESCRIPTION).")
@click.option("--include-deferred", is_flag=True, help="Accepted for Airflow's scripts: "
              "deferred tasks hold no slot in flowsched (they wait as reschedules).")  # fmt: skip
def set_pool(
    name: str,
    slots: int,
    description_argument: str | None,
    description: str | None,
    include_deferred: bool,
) -> None:
    """Create a pool or change its slots (and description), as `airflow pools set`."""
    if description_argument is not None and description is not None:
        fail("give the description once: as DESCRIPTION or as --description")
    description = description if description is not None else description_argument
    operate(pool_ops.set_pool, name, slots, description=description)
    click.echo(f"Pool {name!r} set to {slots} slot{'' if slots == 1 else 's'}.")


@pools.command("list")
@output_option
def list_pools(output: str) -> None:
    """Every pool with its slots in use (running, queued) and open."""
    render(_pool_rows(None), POOL_COLUMNS, output)


@pools.command("get")
@click.argument("name")
@output_option
def get_pool(name: str, output: str) -> None:
    """One pool with its slots in use (running, queued) and open."""
    rows = _pool_rows(name)
    if not rows:
        fail(f"no pool named {name!r} (run `flowsched pools list`)")
    render(rows, POOL_COLUMNS, output)


@pools.command("export")
@click.argument("file")
def export_pools(file: str) -> None:
    """Write every pool to FILE ("-": stdout) in Airflow's format:
    {"name": {"slots": N, "description": "...", "include_deferred": false}}."""
    data = {
        row["pool"]: {"slots": row["slots"], "description": row["description"] or "",
                      "include_deferred": False}
        for row in _pool_rows(None)
    }  # fmt: skip
    write_text(file, json.dumps(data, indent=4) + "\n", f"{len(data)} pool(s)")


@pools.command("import")
@click.argument("file")
def import_pools(file: str) -> None:
    """Create or update the pools in FILE (Airflow's `pools export` format)."""
    data = parse_json(read_text(file), file)
    if not isinstance(data, dict):
        fail(f"{file}: expected a JSON object of name: {{slots, description}}")
    require_current_schema()
    with session_scope() as session:
        for name, spec in data.items():
            if not isinstance(spec, dict) or "slots" not in spec:
                fail(f'{file}: pool {name!r} needs a "slots" number')
            pool_ops.set_pool(session, name, spec["slots"], actor=cli_user(),
                              description=spec.get("description"))  # fmt: skip
    click.echo(f"Imported {len(data)} pool(s).")


POOL_COLUMNS = ["pool", "slots", "running", "queued", "open", "description"]


def _pool_rows(name: str | None) -> list[dict[str, object]]:
    with reading() as session:
        rows: list[dict[str, object]] = [
            {"pool": pool.pool, "slots": pool.slots, "running": pool.running,
             "queued": pool.queued, "open": pool.open_slots, "description": pool.description}
            for pool in pool_ops.pools_in_use(session)
            if name is None or pool.pool == name
        ]  # fmt: skip
    return rows


@pools.command("delete")
@click.argument("name")
def delete_pool(name: str) -> None:
    """Delete a pool (not default_pool: tasks without a pool need it)."""
    operate(pool_ops.delete_pool, name)
    click.echo(f"Pool {name!r} deleted.")
