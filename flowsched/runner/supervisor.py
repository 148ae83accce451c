"""Supervising one try: run it in a forked child, enforce its deadline, outlive its crash.

The child runs the try (``task_runner.run_try``) in its own process group and reports the
state it recorded through a pipe. Whatever the child does — ``os._exit``, a segfault, a
memory blow-up, hanging past its ``execution_timeout`` — only the child dies: the
supervisor kills its process group when the deadline passes, and a try that ended
without recording a state gets the failure policy here, with a message saying how it
died. Shared by the LocalExecutor's workers, the SequentialExecutor and ``tasks run``.
"""

from __future__ import annotations

import logging
import os
import select as io_select
import signal
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flowsched import db
from flowsched.db import session_scope
from flowsched.executors.base import ExecutorEvent, TaskKey
from flowsched.models import DagRun, SerializedDagModel, TaskInstance
from flowsched.runner.context import previous_success, try_context
from flowsched.runner.failure import FailurePolicy, handle_failure, wait_for_alerts
from flowsched.runner.interrupts import timeout_message
from flowsched.runner.logs import capture_try_output, log_path, supervisor_log
from flowsched.runner.task_instance import RuntimeTaskInstance
from flowsched.runner.task_runner import run_try

if TYPE_CHECKING:
    from flowsched.authoring.dag import DAG

logger = logging.getLogger("flowsched.executor")

# How long past execution_timeout the supervisor waits for the try to stop by itself: the
# try's own timer raises in the task first, so that on_kill (the BashOperator's allows its
# command 5 s to stop) and the failure callbacks can run.
KILL_GRACE = 10.0
# What the child writes when the try recorded no state: it was not queued for this try
# (so did not run), or it was taken away from outside while it ran.
NOT_RUN = b"-"
LOST = b"!"


@dataclass
class _Ending:
    """How the child process ended."""

    reported: bytes  # what the child wrote: a state, NOT_RUN, LOST, or b"" (nothing)
    status: int  # os.waitpid status
    timed_out: bool


Report = Callable[[ExecutorEvent], None]


def supervise_try(
    key: TaskKey,
    dag: DAG,
    *,
    executor: str,
    report: Report,
    close_in_child: Sequence[Any] = (),
) -> None:
    """Run try ``key`` in a child process; ``report`` how it ended, exactly once.

    The report comes as soon as the child has committed the try's state, before the
    child has finished exiting (its callbacks, alerts and teardown are off the critical
    path of the next task); returns once the child is gone. ``close_in_child`` are
    connections of the caller that the try must not inherit (so that the caller's peers
    see them close when the caller dies).
    """
    timeout = _execution_timeout(dag, key.task_id)
    read_fd, write_fd = os.pipe()
    db.dispose_engines()  # no pooled connection may be shared with the child
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(key, dag, executor, write_fd, close_in_child)
    os.close(write_fd)
    with suppress(OSError):  # the child may have done it (or exited) already
        os.setpgid(pid, pid)

    def reported(state: bytes) -> None:
        report(_reported_event(key, state))

    try:
        ending = _watch(pid, read_fd, timeout, reported)
    except BaseException:  # the supervisor is being stopped: the try goes with it
        _kill_group(pid)
        os.waitpid(pid, 0)
        fail_try(key, "Task process killed: its supervisor was stopped", dag=dag)
        raise
    finally:
        os.close(read_fd)
    _kill_group(pid)  # what the try left running in its group ends with it
    if not ending.reported:
        message = _death_message(ending, timeout)
        report(ExecutorEvent(key, fail_try(key, message, dag=dag), message))


def _execution_timeout(dag: DAG, task_id: str) -> float | None:
    if task_id not in dag.task_dict:
        return None
    timeout = dag.task_dict[task_id].execution_timeout
    return timeout.total_seconds() if timeout else None


def _child(key: TaskKey, dag: DAG, executor: str, write_fd: int, close: Sequence[Any]) -> None:
    """The try's process: never returns."""
    code = 1

    reported = False

    def recorded(state: str | None) -> None:
        nonlocal reported
        os.write(write_fd, state.encode() if state else LOST)
        reported = True

    try:
        os.setpgid(0, 0)
        for connection in close:
            connection.close()
        db.dispose_engines()
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
            signal.signal(number, signal.SIG_DFL)  # whatever the supervisor made of them
        run_try(key, dag, executor=executor, on_recorded=recorded)
        if not reported:
            os.write(write_fd, NOT_RUN)
        wait_for_alerts()
        code = 0
    except BaseException:
        traceback.print_exc()
        with supervisor_log(log_path(*key)) as sink:
            sink.note("supervisor", traceback.format_exc())
    finally:
        os._exit(code)


def _watch(
    pid: int, read_fd: int, timeout: float | None, reported: Callable[[bytes], None]
) -> _Ending:
    """Pass on the child's report when it comes; wait for the child to exit, killing
    its group at the deadline (execution_timeout plus a grace)."""
    deadline = None if timeout is None else time.monotonic() + timeout + KILL_GRACE
    pidfd = os.pidfd_open(pid)
    watched = [pidfd, read_fd]
    state, timed_out = b"", False
    try:
        while pidfd in watched:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = io_select.select(watched, [], [], remaining)
            if not ready:
                timed_out = True
                _kill_group(pid)
                break
            if read_fd in ready:
                watched.remove(read_fd)
                state = os.read(read_fd, 64)
                if state:
                    reported(state)
            if pidfd in ready:
                watched.remove(pidfd)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(pidfd)
    return _Ending(state, status, timed_out)


def _kill_group(pid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _reported_event(key: TaskKey, state: bytes) -> ExecutorEvent:
    if state == NOT_RUN:
        return ExecutorEvent(key, None, "not run: the task instance was not queued for this try")
    if state == LOST:
        return ExecutorEvent(key, _current_state(key), "the task instance was changed from outside")
    return ExecutorEvent(key, state.decode())


def _current_state(key: TaskKey) -> str | None:
    with session_scope(readonly=True) as session:
        row = session.get(TaskInstance, (key.dag_id, key.run_id, key.task_id, key.map_index))
        return row.state if row is not None else None


def _death_message(ending: _Ending, timeout: float | None) -> str:
    if ending.timed_out:
        return f"{timeout_message(timeout or 0)}; killed after {KILL_GRACE:g} s more"
    if os.WIFSIGNALED(ending.status):
        number = os.WTERMSIG(ending.status)
        name = signal.Signals(number).name if number in signal.valid_signals() else number
        return f"Task process was killed by signal {name} without recording a state"
    code = os.waitstatus_to_exitcode(ending.status)
    return f"Task process exited with code {code} without recording a state"


def fail_try(key: TaskKey, message: str, *, dag: DAG | None = None) -> str | None:
    """Apply the failure policy to a try that could not record its own end.

    Returns the state the task instance is in afterwards, whoever set it.
    """
    logger.error("%s: %s", key, message)
    with supervisor_log(log_path(*key)) as sink, capture_try_output(sink, capture_fds=False):
        sink.note("supervisor", message)
        with session_scope() as session:
            row = session.get(TaskInstance, (key.dag_id, key.run_id, key.task_id, key.map_index))
            if row is None or row.try_number != key.try_number:
                return row.state if row is not None else None
            task = dag.task_dict.get(key.task_id) if dag is not None else None
            policy = _policy(session, key, task)
            context = _failure_context(session, row, dag, task)
            state = handle_failure(
                session, row, policy, message, run_callbacks=True, context=context
            )
            current = state or row.state
        wait_for_alerts()
    return current


def _policy(session: Session, key: TaskKey, task: Any) -> FailurePolicy:
    """From the imported task, else (the DAG file did not load) from the serialized DAG."""
    if task is not None:
        return FailurePolicy.from_task(task)
    from flowsched.parsing.serialize import SerializedDAG

    row = session.get(SerializedDagModel, key.dag_id)
    serialized = SerializedDAG.from_dict(row.data) if row is not None else None
    if serialized is None or not serialized.has_task(key.task_id):
        return FailurePolicy()
    return FailurePolicy.from_task(serialized.task_dict[key.task_id])


def _failure_context(
    session: Session, row: TaskInstance, dag: DAG | None, task: Any
) -> dict[str, Any]:
    """The context the task's callbacks get; as much of it as can still be built."""
    ti = RuntimeTaskInstance(row, task)
    minimal = {"dag": dag, "task": task, "ti": ti, "task_instance": ti, "run_id": row.run_id}
    dag_run = session.scalar(
        select(DagRun).where(DagRun.dag_id == row.dag_id, DagRun.run_id == row.run_id)
    )
    if dag is None or dag_run is None:
        return minimal
    try:
        return try_context(dag, task, ti, dag_run, previous_success(session, dag_run))
    except Exception:  # e.g. params the run conf no longer satisfies
        return minimal
