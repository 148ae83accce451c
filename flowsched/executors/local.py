"""LocalExecutor: a pool of ``core.parallelism`` worker processes on this machine.

Workers are forked once, at start. Each keeps the DAG files it has imported and a warm
database connection, claims and records each try itself and forks a child per try to
run it (``runner.supervisor``): a try costs a fork rather than an interpreter start, an
import and a database connection, and whatever the try does to its process cannot reach
the worker.
Each worker has its own pipe, and the executor watches the pipes together with a pidfd
per worker, so ``wait_for_events`` wakes on the first finished try (or dead worker)
without polling.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
import traceback
from collections import deque
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing import Pipe
from multiprocessing.connection import Connection, wait
from types import FrameType
from typing import Any

from flowsched import db
from flowsched.config import conf
from flowsched.executors.base import BaseExecutor
from flowsched.runner.queued_try import run_queued_try
from flowsched.runner.warmup import warm_up
from flowsched.tries import ExecutorEvent, TaskKey

logger = logging.getLogger("flowsched.executor")

STOP_TIMEOUT = 10.0  # seconds terminate() gives workers to stop their tries cleanly
# A worker ignores SIGINT and SIGTERM: sent to the whole process group (Ctrl-C, a service
# manager), they are the scheduler's to act on, and it stops its workers in order. Only
# this signal, from terminate(), makes a worker kill its try and exit at once.
STOP_SIGNAL = signal.SIGUSR1


@dataclass
class _Worker:
    pid: int
    pidfd: int
    conn: Connection
    current: TaskKey | None = None  # the try it was sent and has not reported yet
    busy: bool = False  # from sending it a try until it says it is ready for the next
    alive: bool = True


class LocalExecutor(BaseExecutor):
    name = "local"

    def __init__(self, parallelism: int | None = None) -> None:
        self.parallelism = parallelism or conf.core.parallelism
        self._workers: list[_Worker] = []
        self._pending: deque[tuple[TaskKey, str]] = deque()
        self._stopping = False

    # --- the scheduler's side ----------------------------------------------------------

    def start(self) -> None:
        warm_up()
        for _ in range(self.parallelism):
            self._workers.append(self._spawn())

    def queue_task(self, key: TaskKey, fileloc: str, *, queue: str = "default") -> None:
        self._pending.append((key, fileloc))
        self._dispatch()

    def free_slots(self) -> int:
        idle = sum(1 for worker in self._workers if not worker.busy and worker.alive)
        return max(0, idle - len(self._pending))

    def wait_for_events(self, timeout: float) -> list[ExecutorEvent]:
        deadline = time.monotonic() + timeout
        while True:
            events = self._collect(max(0.0, deadline - time.monotonic()))
            if events or time.monotonic() >= deadline:
                return events

    def end(self) -> None:
        """Run what was queued to the end, then stop the workers."""
        self._stopping = True
        while self._pending or any(worker.busy for worker in self._workers if worker.alive):
            if not any(worker.alive for worker in self._workers):
                break  # all killed from outside: what is left stays queued for a restart
            self._collect(1.0)
        self._stop_workers(signal_number=None)

    def terminate(self) -> None:
        """Stop now: workers kill their tries (which fail as per their retry policy)."""
        self._stopping = True
        self._pending.clear()
        self._stop_workers(signal_number=STOP_SIGNAL)

    # --- bookkeeping -------------------------------------------------------------------

    def _stop_workers(self, signal_number: int | None) -> None:
        """Closing its pipe stops an idle worker; ``signal_number`` stops a busy one."""
        live = [worker for worker in self._workers if worker.alive]
        for worker in live:
            if signal_number is not None:
                _signal(worker.pid, signal_number)
            worker.conn.close()
        for worker in live:
            self._reap(worker, timeout=STOP_TIMEOUT)
        self._workers.clear()

    def _dispatch(self) -> None:
        for worker in self._workers:
            if not self._pending:
                return
            if not worker.busy and worker.alive:
                try:
                    worker.conn.send(self._pending[0])
                except OSError:  # died since the last look: replace it, keep the try
                    self._replace_dead(worker)
                    continue
                worker.current = self._pending.popleft()[0]
                worker.busy = True

    def _collect(self, timeout: float) -> list[ExecutorEvent]:
        by_fd: dict[Connection | int, _Worker] = {}
        for worker in self._workers:
            if worker.alive:
                by_fd[worker.conn] = worker
                by_fd[worker.pidfd] = worker
        events: list[ExecutorEvent] = []
        for ready in wait(list(by_fd), timeout):
            worker = by_fd[ready]  # type: ignore[index]  # wait() gives back what it got
            if not worker.alive:
                continue  # both its pipe and its pidfd were ready
            if ready is worker.conn:
                events.extend(self._receive(worker))
            else:
                events.extend(self._replace_dead(worker))
        self._dispatch()
        return events

    def _receive(self, worker: _Worker) -> list[ExecutorEvent]:
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            return self._replace_dead(worker)
        return self._handle(worker, message)

    @staticmethod
    def _handle(worker: _Worker, message: tuple[str, Any]) -> list[ExecutorEvent]:
        """A worker reports a try's end as soon as it is recorded, then says when it is
        ready for another try (after reaping the try's process and sending its alerts)."""
        kind, payload = message
        if kind == "ready":
            worker.busy = False
            return []
        worker.current = None
        return [payload]

    def _replace_dead(self, worker: _Worker) -> list[ExecutorEvent]:
        """A worker died (killed from outside): report its try as lost (the scheduler
        sends it again if it never started, re-runs it if it did), start a new worker.
        Nothing here touches the database: the scheduler does, inside its retry guard."""
        events = self._drain(worker)  # it may have reported its try before dying
        worker.alive = False
        code = self._reap(worker, timeout=STOP_TIMEOUT)
        worker.conn.close()
        if not self._stopping:
            logger.error("LocalExecutor worker %s died (%s); starting a new one", worker.pid, code)
            self._workers[self._workers.index(worker)] = self._spawn()
        if worker.current is not None:  # settled by the scheduler, in its pass
            info = f"worker lost (pid {worker.pid}: {code})"
            events.append(ExecutorEvent(worker.current, None, info, lost=True))
        return events

    def _drain(self, worker: _Worker) -> list[ExecutorEvent]:
        events = []
        try:
            while worker.conn.poll():
                events.extend(self._handle(worker, worker.conn.recv()))
        except (EOFError, OSError):
            pass
        return events

    def _reap(self, worker: _Worker, timeout: float) -> str:
        """Wait for a worker to exit (killing it after ``timeout``); how it ended."""
        if not wait([worker.pidfd], timeout):
            _signal(worker.pid, signal.SIGKILL)
        try:
            _, status = os.waitpid(worker.pid, 0)
        except ChildProcessError:
            status = 0
        finally:
            os.close(worker.pidfd)
        if os.WIFSIGNALED(status):
            return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
        return f"exit code {os.waitstatus_to_exitcode(status)}"

    def _spawn(self) -> _Worker:
        # This process's pooled connections must not live on in the worker: SQLite would
        # take them for the worker's own (runner.supervisor explains the same for tries).
        db.dispose_engines()
        ours, theirs = Pipe(duplex=True)
        others = [worker.conn for worker in self._workers if worker.alive]
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # or the child would print this process's buffered output again
        pid = os.fork()
        if pid == 0:
            ours.close()
            for conn in others:
                conn.close()
            _worker_main(theirs)
        theirs.close()
        return _Worker(pid, os.pidfd_open(pid), ours)


def _signal(pid: int, number: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, number)


def _worker_main(conn: Connection) -> None:
    """A worker process: run the tries it is sent, one at a time, until the pipe closes."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(STOP_SIGNAL, _stop_now)
        while True:
            try:
                key, fileloc = conn.recv()
            except EOFError:
                break
            run_queued_try(
                key,
                fileloc,
                executor=LocalExecutor.name,
                report=lambda event: _tell(conn, ("event", event)),
                close_in_child=[conn],
            )
            _tell(conn, ("ready", None))
    except WorkerStopped:
        pass
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _tell(conn: Connection, message: tuple[str, Any]) -> None:
    """Send to the executor; if it is gone (killed), the try is recorded all the same and
    the worker leaves when it next reads its pipe."""
    with suppress(OSError):
        conn.send(message)


class WorkerStopped(BaseException):
    """terminate() reached a worker. Not SystemExit: a DAG file being imported may raise
    that one itself, and is failed for it, while this one must end the worker."""


def _stop_now(_signum: int, _frame: FrameType | None) -> None:
    raise WorkerStopped
