"""``flowsched users`` and ``roles``: the accounts that may log in to the web UI and its API.

Takes Airflow's flags and role names: Admin stays admin, Viewer viewer; Op and User become
admin (flowsched's only role that may trigger, clear or pause); Public is refused.
"""

from __future__ import annotations

import json

import click

from flowsched.cli.airflow_names import add_unsupported
from flowsched.cli.files import parse_json, read_text, write_text
from flowsched.cli.lookups import operate, reading
from flowsched.cli.output import output_option, render
from flowsched.db.user import ROLES
from flowsched.operations import users as user_ops

ROLE_HELP = "admin or viewer; or Airflow's Admin, Op, User (all become admin) or Viewer."


@click.group()
def users() -> None:
    """Create, list and delete web UI users (roles: admin changes, viewer reads)."""


@users.command()
@click.option("--username", "-u", required=True, help="The login name.")
@click.option("--password", "-p", help="The password; asked for (hidden, twice) when not given.")
@click.option("--use-random-password", is_flag=True, help="Set a random password (as Airflow).")
@click.option("--role", "-r", required=True, help=ROLE_HELP)
@click.option("--email", "-e", help="Contact address (optional).")
@click.option("--firstname", "-f", help="Accepted for Airflow's scripts; not stored.")
@click.option("--lastname", "-l", help="Accepted for Airflow's scripts; not stored.")
def create(
    username: str,
    password: str | None,
    use_random_password: bool,
    role: str,
    email: str | None,
    firstname: str | None,
    lastname: str | None,
) -> None:
    """Add a user, e.g. `flowsched users create -u ana -r admin` (Airflow's flags work)."""
    if use_random_password:
        import secrets

        password = secrets.token_urlsafe(24)
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    role = operate(user_ops.create_user, username, password, role, email).role
    click.echo(f"User {username} created with role {role}.")


@users.command("list")
@output_option
def list_users(output: str) -> None:
    """Every user with role, e-mail and last login."""
    with reading() as session:
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


@users.command("add-role")
@click.option("--username", "-u", required=True)
@click.option("--role", "-r", required=True, help=ROLE_HELP)
def add_role(username: str, role: str) -> None:
    """Give a user a role; a flowsched user has one, so it replaces the one they had."""
    role = operate(user_ops.set_role, username, role).role
    click.echo(f"User {username} now has role {role}.")


@users.command("remove-role")
@click.option("--username", "-u", required=True)
@click.option("--role", "-r", required=True, help=ROLE_HELP)
def remove_role(username: str, role: str) -> None:
    """Take a role away: an admin becomes a viewer (a viewer cannot lose theirs)."""
    role = operate(user_ops.remove_role, username, role).role
    click.echo(f"User {username} now has role {role}.")


@users.command("reset-password")
@click.option("--username", "-u", required=True)
@click.option("--password", "-p", help="The new password; asked for when not given.")
def reset_password(username: str, password: str | None) -> None:
    """Set a user's password."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    operate(user_ops.set_password, username, password)
    click.echo(f"Password of {username} changed.")


@users.command("export")
@click.argument("file")
def export_users(file: str) -> None:
    """Write every user to FILE in Airflow's format (a JSON list; no passwords)."""
    airflow_role = {"admin": "Admin", "viewer": "Viewer"}
    with reading() as session:
        data = [
            {"username": user.username, "email": user.email or "", "firstname": "",
             "lastname": "", "roles": [airflow_role[user.role]]}
            for user in user_ops.list_users(session)
        ]  # fmt: skip
    write_text(file, json.dumps(data, indent=4) + "\n", f"{len(data)} user(s)")


@users.command("import")
@click.argument("file")
def import_users(file: str) -> None:
    """Create or update users from FILE in Airflow's `users export` format."""
    records = parse_json(read_text(file), file)
    if not isinstance(records, list):
        records = [records]
    created, updated = operate(user_ops.import_users, records)
    click.echo(f"Created {created} user(s), updated {updated}.")
    if created:
        click.echo("Users imported without a password got a random one: "
                   "set it with `flowsched users reset-password`.")  # fmt: skip


@click.group()
def roles() -> None:
    """The roles users can have (as `airflow roles`; flowsched's are fixed)."""


@roles.command("list")
@output_option
def list_roles(output: str) -> None:
    """flowsched's roles and the Airflow role names that map onto each."""
    rows = [
        {
            "name": role,
            "airflow_roles": [
                name for name, mine in user_ops.AIRFLOW_ROLES.items() if mine == role
            ],
            "can": "read everything, change everything" if role == "admin" else "read everything",
        }
        for role in ROLES
    ]
    render(rows, ["name", "airflow_roles", "can"], output)


ROLES_ARE_FIXED = "flowsched's two roles (admin, viewer) are fixed: give users one of them"
add_unsupported(
    roles,
    {
        name: ROLES_ARE_FIXED
        for name in ("create", "delete", "add-perms", "del-perms", "export", "import")
    },
)
