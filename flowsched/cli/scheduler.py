"""``flowsched scheduler``: run the scheduler daemon in the foreground or (-D) detached."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from flowsched.cli.errors import fail
from flowsched.config import conf, flowsched_home

if TYPE_CHECKING:
    from flowsched.executors.base import BaseExecutor
    from flowsched.scheduling.lock import SchedulerLock

LOG_FORMAT = "[%(asctime)s] %(levelname)s %(name)s: %(message)s"


@click.command()
@click.option("-D", "--daemon", is_flag=True, help="Detach from the terminal; see --log-file.")
@click.option(
    "--pid",
    "pid_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the process id here [default: scheduler.pid_file].",
)
@click.option(
    "-n",
    "--num-runs",
    type=int,
    default=-1,
    show_default=True,
    help="Stop after this many scheduling passes (for tests); -1 runs until stopped.",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With -D: where output goes [default: $FLOWSCHED_HOME/scheduler.log].",
)
def scheduler(daemon: bool, pid_file: Path | None, num_runs: int, log_file: Path | None) -> None:
    """Create runs, dispatch ready tasks and finish runs until SIGTERM / Ctrl-C.

    The first SIGTERM or SIGINT lets running tries finish, the second stops them. With
    SQLite a second scheduler refuses to start.
    """
    from flowsched import db

    db.require_current_schema()
    pid_file = pid_file or Path(conf.scheduler.pid_file)
    report = _daemonize(log_file or flowsched_home() / "scheduler.log") if daemon else None
    logging.basicConfig(level=conf.logging.level, format=LOG_FORMAT)
    lock = _lock_database(report)
    try:
        _write_pid(pid_file)
        if report is not None:
            _report(report, "ok")
        _run(num_runs)
    finally:
        with contextlib.suppress(FileNotFoundError):
            pid_file.unlink()
        if lock is not None:
            lock.release()


def _lock_database(report: int | None) -> SchedulerLock | None:
    """The single-scheduler lock, on SQLite only (PostgreSQL shares work through row locks)."""
    from flowsched.db import get_engine
    from flowsched.scheduling.lock import SchedulerAlreadyRunning, SchedulerLock

    if get_engine().dialect.name != "sqlite":
        return None
    lock = SchedulerLock(flowsched_home() / "scheduler.lock")
    try:
        lock.acquire()
    except SchedulerAlreadyRunning as exc:
        if report is not None:
            _report(report, f"error: {exc}")
        fail(str(exc))
    return lock


def _run(num_runs: int) -> None:
    from flowsched.parsing.scan import parse_dags_folder
    from flowsched.scheduling.loop import SchedulerLoop

    loop = SchedulerLoop(_executor(), scan_dags_folder=parse_dags_folder, num_runs=num_runs)

    def stop(signum: int, _frame: object) -> None:
        logging.getLogger(__name__).info("%s received: stopping", signal.Signals(signum).name)
        loop.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    loop.run()


EXECUTORS = {
    "local": "flowsched.executors.local:LocalExecutor",
    "celery": "flowsched.executors.celery:CeleryExecutor",
    "sequential": "flowsched.executors.sequential:SequentialExecutor",
}


def _executor() -> BaseExecutor:
    """The executor named by [core] executor, imported only when chosen."""
    name = conf.core.executor
    if name not in EXECUTORS:
        fail(f"unknown executor {name!r} in [core] executor; one of: {', '.join(EXECUTORS)}")
    module, attribute = EXECUTORS[name].split(":")
    return getattr(importlib.import_module(module), attribute)()


def _write_pid(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{os.getpid()}\n")


def _daemonize(log_file: Path) -> int:
    """Detach (double fork). The original process waits for the daemon's first word
    ("ok" or the error) on a pipe, prints it and exits, so a refusal to start still reaches
    the terminal. Returns the daemon's end of that pipe."""
    read_end, write_end = os.pipe()
    if os.fork() > 0:
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            answer = pipe.read().strip()
        if answer == "ok":
            click.echo(f"Scheduler started in the background; output in {log_file}")
            sys.exit(0)
        fail(answer.removeprefix("error: ") or f"the scheduler did not start; see {log_file}")
    os.close(read_end)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    output = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    return write_end


def _report(fd: int, message: str) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, message.encode() + b"\n")
        os.close(fd)
