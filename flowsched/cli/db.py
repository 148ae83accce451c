"""``flowsched db``: create, check and reset the metadata database schema."""

from __future__ import annotations

import click

from flowsched import db as database
from flowsched.cli.errors import fail


@click.group()
def db() -> None:
    """Manage the metadata database schema (Alembic migrations)."""


@db.command()
def upgrade() -> None:
    """Bring the schema to the current version (creates it on an empty database)."""
    database.upgrade_db()
    click.echo(f"Database is at revision {database.head_revision()}.")


@db.command()
def check() -> None:
    """Exit 0 if the schema is current, 1 with the reason if not."""
    current, head = database.check_db()
    if current != head:
        fail(f"database is at revision {current or 'none (empty)'}; head is {head}")
    click.echo(f"Database is current (revision {head}).")


@db.command()
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def reset(yes: bool) -> None:
    """Drop every table and recreate the schema: all history is lost."""
    if not yes:
        click.confirm(f"Drop all data in {database.database_url()}?", abort=True)
    database.reset_db()
    click.echo("Database reset.")
