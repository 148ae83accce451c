"""``flowsched users``: the accounts that may log in to the web UI and its API."""

from __future__ import annotations

import click

from flowsched.cli.lookups import operate
from flowsched.cli.output import output_option, render
from flowsched.db import require_current_schema, session_scope
from flowsched.db.user import ROLES
from flowsched.operations import users as user_ops


@click.group()
def users() -> None:
    """Create, list and delete web UI users (roles: admin changes, viewer reads)."""


@users.command()
@click.option("--username", "-u", required=True, help="The login name.")
@click.option(
    "--password",
    "-p",
    help="The password; asked for (hidden, twice) when not given.",
)
@click.option("--role", "-r", type=click.Choice(ROLES), required=True, help="admin or viewer.")
@click.option("--email", "-e", help="Contact address (optional).")
def create(username: str, password: str | None, role: str, email: str | None) -> None:
    """Add a user, e.g. `flowsched users create -u ana -r admin`."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    operate(user_ops.create_user, username, password, role, email)
    click.echo(f"User {username} created with role {role}.")


@users.command("list")
@output_option
def list_users(output: str) -> None:
    """Every user with role, e-mail and last login."""
    require_current_schema()
    with session_scope(readonly=True) as session:
        rows = [
            {
                "username": user.username,
                "role": user.role,
                "email": user.email,
                "created_at": user.created_at,
                "last_login": user.last_login,
            }
            for user in user_ops.list_users(session)
        ]
    render(rows, ["username", "role", "email", "created_at", "last_login"], output)


@users.command()
@click.option("--username", "-u", required=True, help="The user to delete.")
def delete(username: str) -> None:
    """Remove a user; their open sessions end at their next request."""
    operate(user_ops.delete_user, username)
    click.echo(f"User {username} deleted.")
