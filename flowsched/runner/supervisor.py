"""Supervising one try: claim it, run it in a forked child, record how it ended.

The supervisor (a LocalExecutor worker, the SequentialExecutor's caller, ``tasks run``)
claims the try and records its end with its own warm database connection; the child, in
its own process group, only runs the task and reports its outcome through a pipe.
Whatever the child does — ``os._exit``, a segfault, a memory blow-up, hanging past its
``execution_timeout`` — only the child dies: the supervisor kills its process group when
the deadline passes, and a try that ended without reporting gets the failure policy
here, with a message saying how it died. The supervisor also beats the try's heartbeat
while it waits; the child is killed if its supervisor dies, so no try outlives the
process that would record it.

Why the work is split this way, and ordered so: a fresh process pays for a new engine, a
connection, a schema read and statement compilation on every query, and while a forked
child lives, every page its parent writes is copied. So the supervisor claims before it
forks, and records after the child has exited, unless the task has callbacks for the
outcome: then the child waits for the recorded state and runs them.
"""

from __future__ import annotations

import ctypes
import logging
import os
import select as io_select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import suppress
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from flowsched import db
from flowsched.config import conf
from flowsched.db import session_scope
from flowsched.db.outage import OutageWatch, first_line, is_outage, until_reachable
from flowsched.db.tables import TaskInstance
from flowsched.notify.failure_alerts import wait_for_alerts
from flowsched.runner import outcome_file, try_process
from flowsched.runner.execution import TryResult
from flowsched.runner.heartbeat import beat
from flowsched.runner.interrupts import timeout_message
from flowsched.runner.log_capture import report_log_problem, supervisor_log
from flowsched.runner.lost_tries import fail_try
from flowsched.runner.task_runner import (
    StartedTry,
    claim_try,
    record_result,
    store_log_error,
    store_rendered,
)
from flowsched.runner.try_process import TryProcess
from flowsched.task_logs import log_path
from flowsched.tries import ExecutorEvent, TaskKey

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG

logger = logging.getLogger("flowsched.executor")

# How long past execution_timeout the supervisor waits for the try to stop by itself: the
# try's own timer raises in the task first, so that on_kill (the BashOperator's allows its
# command 5 s to stop) and the failure callbacks can run.
KILL_GRACE = 10.0
# The first heartbeat (which also records the try's pid) comes this soon, rather than a
# full interval in: a task that ends sooner is recorded, pid included, at its end.
FIRST_BEAT = 0.5
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Sent to a try's process when its supervisor dies; a real-time signal, which no task is
# likely to claim for itself.
SUPERVISOR_DIED = signal.SIGRTMIN + 3
# How long a try's process whose supervisor died may still run, for its code to end (it
# then writes its outcome and exits); far below the scheduler's wait before it settles a
# lost try (``scheduling.lost_tries.LOST_GRACE``, or a restart).
ORPHAN_GRACE = 0.2
NOT_QUEUED = "not run: the task instance was not queued for this try"

Report = Callable[[ExecutorEvent], None]
OUTAGE = OutageWatch(logger)  # this supervisor's view of the database, logged on change


def supervise_try(
    key: TaskKey,
    dag: DAG,
    *,
    executor: str,
    report: Report,
    close_in_child: Sequence[Any] = (),
) -> None:
    """Run try ``key`` (if it is queued) in a child process; ``report`` how it ended,
    exactly once, as soon as that is committed; return once the child is gone.

    ``close_in_child`` are connections of the caller that the try must not inherit (so
    that the caller's peers see them close when the caller dies).
    """
    try:
        started = claim_try(key, executor)
    except Exception as exc:
        if is_outage(exc):  # still queued: the scheduler sends it again once it can
            message = f"not started: database unreachable ({first_line(exc)})"
            report(ExecutorEvent(key, None, message, lost=True))
            return
        # e.g. its DAG run was deleted: the try cannot start
        logger.exception("%s: could not claim the try", key)
        message = f"Task could not start: {type(exc).__name__}: {exc}"
        report(ExecutorEvent(key, fail_try(key, message, dag=dag), message))
        return
    if started is None:
        report(ExecutorEvent(key, None, NOT_QUEUED))
        return
    left = outcome_file.load(key)
    if left is not None:  # its code ended under a supervisor that died: never run it again
        _record_left_outcome(key, dag, started, left, report)
        return
    ours, theirs = Pipe(duplex=True)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # or the child would print this process's buffered output again
    supervisor_pid = os.getpid()
    pid = os.fork()
    if pid == 0:
        ours.close()
        _child(key, dag, started, theirs, [*close_in_child], supervisor_pid)
    theirs.close()
    with suppress(OSError):  # the child may have done it (or exited) already
        os.setpgid(pid, pid)
    started.row.pid = pid
    watch = _Watch(key, dag, started, pid, ours, report)
    try:
        watch.run()
    except BaseException:  # the supervisor is being stopped: the try goes with it
        _kill_group(pid)
        with suppress(ChildProcessError):
            os.waitpid(pid, 0)
        fail_try(key, "Task process killed: its supervisor was stopped", dag=dag)
        raise
    finally:
        ours.close()
    wait_for_alerts()  # sent from here, by the recording; never leave threads to a fork


def _record_left_outcome(
    key: TaskKey, dag: DAG, started: StartedTry, result: TryResult, report: Report
) -> None:
    """Record the outcome this try's process left beside its log before its supervisor
    died (the scheduler sent the try again for this). Its callbacks, which needed that
    process, do not run."""
    state = until_reachable(lambda: record_result(key, dag, started, result), OUTAGE)
    outcome_file.discard(key)
    with supervisor_log(log_path(*key)) as sink:
        sink.note("supervisor", f"Recorded the outcome the try left: {result.state.upper()}")
    report(ExecutorEvent(key, state))


def _child(
    key: TaskKey,
    dag: DAG,
    started: StartedTry,
    conn: Connection,
    close: Sequence[Any],
    supervisor_pid: int,
) -> None:
    """The try's process: never returns."""
    code = 1
    try:
        _die_with(supervisor_pid)
        os.setpgid(0, 0)
        for connection in close:
            connection.close()
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
            signal.signal(number, signal.SIG_DFL)  # whatever the supervisor made of them
        # The supervisor's pooled connections must not become this process's own.
        db.reset_after_fork()
        TryProcess(key, dag, started, _PipeLine(conn)).run()
        code = 0
    except BaseException:
        traceback.print_exc()
        with supervisor_log(log_path(*key)) as sink:
            sink.note("supervisor", traceback.format_exc())
    finally:
        os._exit(code)


def _die_with(supervisor_pid: int) -> None:
    """Die when the supervisor dies (Linux: the kernel signals this process), unless the
    task's code has already ended: then this process lives on just long enough to write
    the outcome beside the log (``TryProcess`` does it next), so that a task whose code
    completed is recorded, not run again, by whoever finds the try lost."""

    def die_unless_code_ended() -> None:
        time.sleep(ORPHAN_GRACE)
        if not try_process.code_ended():
            os.kill(os.getpid(), signal.SIGKILL)

    def supervisor_died(_signum: int, _frame: object) -> None:
        # A task whose code is just returning (its last line written, its log line
        # "Done" on the way) gets a moment to end: killed in that moment, it would be
        # run again although its work was done.
        threading.Thread(target=die_unless_code_ended, daemon=True).start()

    signal.signal(SUPERVISOR_DIED, supervisor_died)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, SUPERVISOR_DIED)
    if os.getppid() != supervisor_pid:  # it died before the line above took effect
        os._exit(1)


class _PipeLine:
    """The try's side of the pipe to its supervisor."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def rendered(self, fields: dict[str, Any]) -> None:
        with suppress(OSError):  # only for show; a supervisor gone is no task failure
            self.conn.send(("rendered", fields))

    def hand_over(self, result: TryResult) -> None:
        self.conn.send(("result", result))

    def decide(self, result: TryResult) -> str | None:
        self.conn.send(("verdict", result))
        return self.conn.recv()

    def log_problem(self, problem: str) -> None:
        self.conn.send(("log_error", problem))


class _Watch:
    """The supervisor's side: serve the child, beat, enforce the deadline, record."""

    def __init__(
        self,
        key: TaskKey,
        dag: DAG,
        started: StartedTry,
        pid: int,
        conn: Connection,
        report: Report,
    ) -> None:
        self.key, self.dag, self.started, self.pid = key, dag, started, pid
        self.conn = conn
        self.report = report
        self.result: TryResult | None = None  # handed over, recorded once the child is gone
        self.reported = False
        self.lost = False
        self.timed_out = False
        self.record_error: Exception | None = None
        self.status = 0
        self.timeout = _execution_timeout(dag, key.task_id)

    def run(self) -> None:
        self._wait_for_child()
        _kill_group(self.pid)  # what the try left running in its group ends with it
        while not self.reported and self.result is None and self.conn.poll():
            if not self._serve():  # a report sent just before the child died
                break
        if self.result is None and not self.reported:  # died right after its code ended?
            self.result = outcome_file.load(self.key)
        if self.result is not None and not self.reported:
            self._record(self.result)
        if not self.reported:
            message = self.death_message()
            self.report(ExecutorEvent(self.key, fail_try(self.key, message, dag=self.dag), message))

    def _wait_for_child(self) -> None:
        now = time.monotonic()
        deadline = None if self.timeout is None else now + self.timeout + KILL_GRACE
        interval = conf.scheduler.task_heartbeat_interval
        next_beat = now + min(FIRST_BEAT, interval)
        pidfd = os.pidfd_open(self.pid)
        watched: list[Any] = [pidfd, self.conn]
        try:
            while pidfd in watched:
                wake = next_beat if deadline is None else min(next_beat, deadline)
                ready, _, _ = io_select.select(watched, [], [], max(0.0, wake - time.monotonic()))
                if self.conn in ready and not self._serve():
                    watched.remove(self.conn)
                if pidfd in ready:
                    watched.remove(pidfd)
                now = time.monotonic()
                if deadline is not None and now >= deadline and pidfd in watched:
                    self.timed_out = True
                    _kill_group(self.pid)
                    break
                if now >= next_beat:
                    self._beat()
                    next_beat = now + interval
            _, self.status = os.waitpid(self.pid, 0)
        finally:
            os.close(pidfd)

    def _serve(self) -> bool:
        """Handle one message from the child; False once it has closed its end."""
        try:
            kind, payload = self.conn.recv()
        except (EOFError, OSError):
            return False
        if kind == "rendered":
            try:
                store_rendered(self.key, payload)
            except Exception as exc:  # only for show: never worth failing the try over
                if is_outage(exc):
                    OUTAGE.failed(exc, conf.scheduler.task_heartbeat_interval)
                else:
                    logger.warning("%s: rendered fields not stored: %s", self.key, exc)
        elif kind == "result":
            self.result = payload
        elif kind == "log_error":
            report_log_problem(payload)
            try:
                store_log_error(self.key, payload)
            except Exception as exc:  # only for show, like the rendered fields
                logger.warning("%s: log problem not stored: %s", self.key, first_line(exc))
        else:
            state = self._record(payload)
            with suppress(OSError):
                self.conn.send(state)
        return True

    def _record(self, result: TryResult) -> str | None:
        """Commit the try's end, say so in its log, report it; the state now."""
        try:
            state = self._record_through_outage(result)
        except Exception as exc:  # e.g. a constraint: failed below, instead
            logger.exception("%s: could not record the try's end", self.key)
            self.record_error = exc
            return None
        with supervisor_log(log_path(*self.key)) as sink:
            if state is None:
                sink.note(
                    "supervisor", "The task instance was changed from outside; its state stands"
                )
            else:
                sink.note("supervisor", f"Marking task as {state.upper()}")
        if state is None:
            info = "the task instance was changed from outside"
            self.report(ExecutorEvent(self.key, _current_state(self.key), info))
        else:
            self.report(ExecutorEvent(self.key, state))
        self.reported = True
        return state

    def _record_through_outage(self, result: TryResult) -> str | None:
        """Record ``result``; while the database is unreachable, keep it (here, and in the
        file beside the try's log that the try wrote) and try again with backoff until it
        is recorded: a result is never lost, nor turned into a failure, by an outage."""
        state = until_reachable(
            lambda: record_result(self.key, self.dag, self.started, result), OUTAGE
        )
        outcome_file.discard(self.key)
        return state

    def _beat(self) -> None:
        if self.reported or self.lost:
            return
        try:
            alive = beat(self.key, self.pid)
        except Exception as exc:  # a busy database must not stop the try; beat again later
            if is_outage(exc):
                OUTAGE.failed(exc, conf.scheduler.task_heartbeat_interval)
            else:
                logger.warning("%s: heartbeat failed: %s", self.key, exc)
            return
        OUTAGE.succeeded()
        if not alive:
            self.lost = True
            logger.warning("%s: task instance changed from outside; stopping the try", self.key)
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGTERM)

    def death_message(self) -> str:
        if self.record_error is not None:
            return f"The try's end could not be recorded: {self.record_error}"
        if self.timed_out:
            return f"{timeout_message(self.timeout or 0)}; killed after {KILL_GRACE:g} s more"
        if os.WIFSIGNALED(self.status):
            number = os.WTERMSIG(self.status)
            name = signal.Signals(number).name if number in signal.valid_signals() else number
            return f"Task process was killed by signal {name} before reporting its end"
        code = os.waitstatus_to_exitcode(self.status)
        return f"Task process exited with code {code} before reporting its end"


def _execution_timeout(dag: DAG, task_id: str) -> float | None:
    if task_id not in dag.task_dict:
        return None
    timeout = dag.task_dict[task_id].execution_timeout
    return timeout.total_seconds() if timeout else None


def _kill_group(pid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _current_state(key: TaskKey) -> str | None:
    with session_scope(readonly=True) as session:
        row = session.get(TaskInstance, (key.dag_id, key.run_id, key.task_id, key.map_index))
        return row.state if row is not None else None
