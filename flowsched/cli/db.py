"""``flowsched db``: create, check and reset the metadata database schema."""

from __future__ import annotations

import os
import shutil
import sys
import time

import click
from sqlalchemy.engine import make_url

from flowsched import db as database
from flowsched.cli.airflow_names import add_alias, add_unsupported
from flowsched.cli.errors import fail


@click.group()
def db() -> None:
    """Manage the metadata database schema (Alembic migrations)."""


@db.command()
def upgrade() -> None:
    """Bring the schema to the current version (creates it on an empty database).

    Airflow calls it `db migrate` (since 2.7; `db upgrade` and `db init` before): all work.
    """
    database.upgrade_db()
    click.echo(f"Database is at revision {database.head_revision()}.")


@db.command()
def check() -> None:
    """Exit 0 if the schema is current, 1 with the reason if not."""
    current, head = database.check_db()
    if current != head:
        fail(f"database is at revision {current or 'none (empty)'}; head is {head}")
    click.echo(f"Database is current (revision {head}).")


@db.command("check-migrations")
@click.option(
    "-t",
    "--migration-wait-timeout",
    "timeout",
    type=click.FloatRange(min=0),
    default=60,
    show_default=True,
    help="Seconds to wait for the schema to become current.",
)
def check_migrations(timeout: float) -> None:
    """Wait until the schema is current (as Airflow's); exit 1 if it is not in time.

    For containers that must not start before another one has run `db migrate`.
    """
    deadline = time.monotonic() + timeout
    while True:
        current, head = database.check_db()
        if current == head:
            click.echo(f"Database is current (revision {head}).")
            return
        if time.monotonic() >= deadline:
            fail(f"database is at revision {current or 'none (empty)'} after {timeout:g} s; "
                 f"head is {head}")  # fmt: skip
        time.sleep(1)


@db.command()
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def reset(yes: bool) -> None:
    """Drop every table and recreate the schema: all history is lost."""
    if not yes:
        click.confirm(f"Drop all data in {database.database_url()}?", abort=True)
    database.reset_db()
    click.echo("Database reset.")


@db.command()
def shell() -> None:
    """Open the database's own client (sqlite3, psql or mysql) on flowsched's database.

    As Airflow's: this process becomes the client (SQL may come on stdin); a PostgreSQL
    or MySQL password is passed in the environment, never on the command line.
    """
    argv, env = client_command(database.database_url())
    if shutil.which(argv[0]) is None:
        fail(f"`{argv[0]}` is not installed (or not on PATH): it is needed to open the database")
    sys.stdout.flush()
    os.execvpe(argv[0], argv, {**os.environ, **env})


def client_command(url: str) -> tuple[list[str], dict[str, str]]:
    """The client program's argv for the database at ``url``, and its extra environment."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return ["sqlite3", parsed.database or ":memory:"], {}
    if backend == "postgresql":
        env = {
            "PGHOST": parsed.host or "localhost",
            "PGPORT": str(parsed.port or 5432),
            "PGUSER": parsed.username or "postgres",
            "PGDATABASE": parsed.database or "",
        }
        if parsed.password:
            env["PGPASSWORD"] = str(parsed.password)
        return ["psql"], env
    if backend in ("mysql", "mariadb"):
        argv = ["mysql", f"--host={parsed.host or 'localhost'}", f"--port={parsed.port or 3306}",
                f"--user={parsed.username or 'root'}", parsed.database or ""]  # fmt: skip
        return argv, {"MYSQL_PWD": str(parsed.password)} if parsed.password else {}
    fail(f"`db shell` does not know the client of {backend!r} databases")


add_alias(db, upgrade, "migrate")
add_alias(db, upgrade, "init")
add_unsupported(
    db,
    {
        "clean": "flowsched has no archive-and-purge of old rows yet",
        "downgrade": "flowsched's migrations only go forward: restore a backup instead",
        "drop-archived": "flowsched has no `db clean`, so nothing is archived",
        "export-archived": "flowsched has no `db clean`, so nothing is archived",
    },
)
