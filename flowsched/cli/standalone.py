"""``flowsched standalone``: everything on one machine in one command, for trying it out.

It upgrades the database, makes sure an ``admin`` user exists (its generated password
is kept in ``$FLOWSCHED_HOME/standalone_admin_password.txt`` and reused on the next
start, as Airflow does), runs ``flowsched scheduler`` as a child process and serves the
web UI in this one. Ctrl-C or SIGTERM stops both; if the scheduler dies, so does this.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from flowsched.config import conf, flowsched_home

PASSWORD_FILE = "standalone_admin_password.txt"
ADMIN = "admin"
STOP_TIMEOUT = 30.0


@click.command()
@click.option("--host", "-H", help="Interface for the web server [webserver] host.")
@click.option("--port", "-p", type=int, help="Port for the web server [webserver] port.")
def standalone(host: str | None, port: int | None) -> None:
    """Database, admin user, scheduler and web server in one command (SQLite by default)."""
    from flowsched.cli.webserver import make_server
    from flowsched.db import upgrade_db

    upgrade_db()
    password = ensure_admin(flowsched_home() / PASSWORD_FILE)
    host = host or conf.webserver.host
    server = make_server(host, port or conf.webserver.port, conf.webserver.workers)
    scheduler = start_scheduler()
    stopping = threading.Event()
    threading.Thread(target=_watch, args=(scheduler, stopping), daemon=True).start()
    _announce(f"http://{host}:{server.effective_port}/", password)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("standalone | stopping…")
    finally:
        stopping.set()
        server.close()
        stop_scheduler(scheduler)
    if scheduler.returncode not in (0, -signal.SIGTERM):
        sys.exit(1)


def ensure_admin(password_file: Path) -> str | None:
    """The admin's password: reused from the file, or generated and stored there once.

    None when an ``admin`` user exists that standalone did not create (its password is
    whatever its owner chose).
    """
    from flowsched.cli.lookups import cli_user
    from flowsched.db import session_scope
    from flowsched.operations.users import create_user, find_user

    stored = password_file.read_text().strip() if password_file.exists() else None
    with session_scope() as session:
        if find_user(session, ADMIN) is not None:
            return stored
        password = stored or secrets.token_urlsafe(12)
        create_user(session, ADMIN, password, "admin", actor=cli_user())
    if stored is None:
        password_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
    return password


def start_scheduler() -> subprocess.Popen[bytes]:
    """In its own session, so a terminal's Ctrl-C reaches only us and we stop it in order."""
    command = [sys.executable, "-c", "from flowsched.cli import main; main()", "scheduler"]
    return subprocess.Popen(command, start_new_session=True)


def stop_scheduler(scheduler: subprocess.Popen[bytes]) -> None:
    if scheduler.poll() is not None:
        return
    scheduler.send_signal(signal.SIGTERM)
    try:
        scheduler.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        click.echo(f"standalone | scheduler still running after {STOP_TIMEOUT:.0f}s: killing it")
        scheduler.kill()
        scheduler.wait()


def _watch(scheduler: subprocess.Popen[bytes], stopping: threading.Event) -> None:
    """A web UI over a dead scheduler would show runs that never move: stop everything."""
    code = scheduler.wait()
    if not stopping.is_set():
        click.echo(f"standalone | the scheduler exited with status {code}: stopping", err=True)
        os.kill(os.getpid(), signal.SIGTERM)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _announce(url: str, password: str | None) -> None:
    click.echo(f"standalone | flowsched is ready at {url}")
    if password is None:
        click.echo(f"standalone | log in as {ADMIN} with the password you gave that user")
    else:
        click.echo(f"standalone | log in with username: {ADMIN}  password: {password}")
        click.echo(f"standalone | (kept in {flowsched_home() / PASSWORD_FILE})")
