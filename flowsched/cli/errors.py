"""How the CLI reports mistakes: one clear line on stderr and a non-zero exit status."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from sqlalchemy.exc import OperationalError

from flowsched.config import ConfigError
from flowsched.db import DatabaseNotUpgraded


class UserError(click.ClickException):
    """A mistake the user can fix; printed as ``Error: <message>``, exit status 1."""


def fail(message: str) -> NoReturn:
    raise UserError(message)


def run_guarded(command: click.Command, args: list[str] | None = None) -> int:
    """Run the root command (on ``args``, default the process's), turning expected
    failures into one line and exit 1."""
    try:
        status = command.main(args=args, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (DatabaseNotUpgraded, ConfigError) as exc:
        click.echo(f"Error: {exc}", err=True)
        return 1
    except OperationalError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        if "no such table" in reason or "does not exist" in reason:
            reason = "the database is not initialised: run `flowsched db upgrade` first"
        click.echo(f"Error: database: {reason}", err=True)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 1
    except OSError as exc:  # an unreadable file, a full disk: the OS's reason and the path
        where = f": {exc.filename}" if exc.filename else ""
        click.echo(f"Error: {exc.strerror or exc}{where}", err=True)
        return 1
    # Without standalone mode click returns the status of ``ctx.exit(n)`` instead of
    # raising it (commands themselves return None).
    return status if isinstance(status, int) else 0
