"""Import DAG files in forked children, a few at a time, each with a deadline.

Why fork: the parent has already imported flowsched, the operators and the serializer, so
a child starts warm in about a millisecond and pays only for the user's file. A child
that hangs, crashes, calls ``os._exit`` or leaks memory cannot hurt the parent or the
other files. Each child sends its ``FileResult`` back as JSON through a pipe; the parent
reads all pipes with one selector, so a big result never blocks a child.

The deadline is enforced twice: inside the child an interval timer raises
``ImportTimeout`` at the configured timeout (so the traceback shows the line that hung),
and if the child is still there a little later (stuck in C code, or it caught the
exception) the parent kills it.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import json
import os
import selectors
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from flowsched.config import conf
from flowsched.parsing.dagbag import (
    TIMEOUT_SETTING,
    FileResult,
    ImportFailure,
    ImportTimeout,
    ParsedDag,
    load_file,
)

# How long after the timeout a child that ignored ImportTimeout is killed.
KILL_GRACE = 1.0

# Imported once in the parent so that every child inherits them instead of importing them.
WARM_MODULES = (
    "flowsched.authoring.dag",
    "flowsched.taskflow",
    "flowsched.authoring.taskgroup",
    "flowsched.authoring.params",
    "flowsched.authoring.chain",
    "flowsched.db.variable",
    "flowsched.operators.bash",
    "flowsched.operators.python",
    "flowsched.operators.empty",
    "flowsched.sensors.python",
    "flowsched.sensors.filesystem",
    "flowsched.parsing.serialize",
    "flowsched.timetables",
)


@dataclass
class _Child:
    path: Path
    pid: int
    fd: int
    started: float
    chunks: list[bytes] = field(default_factory=list)


def load_files(paths: Iterable[Path], *, timeout: float, processes: int) -> list[FileResult]:
    """Import each file in its own child, at most ``processes`` at once."""
    pending = deque(paths)
    if pending:
        warm_up()
    running: dict[int, _Child] = {}
    results: list[FileResult] = []
    with selectors.DefaultSelector() as selector:
        try:
            while pending or running:
                while pending and len(running) < max(1, processes):
                    child = _spawn(pending.popleft(), timeout)
                    running[child.fd] = child
                    selector.register(child.fd, selectors.EVENT_READ, child)
                for child in _ready(selector, running, timeout):
                    results.append(_collect(child, timeout))
                    selector.unregister(child.fd)
                    os.close(child.fd)
                    del running[child.fd]
        finally:  # e.g. KeyboardInterrupt: leave no child behind
            for child in running.values():
                _kill(child)
                os.waitpid(child.pid, 0)
                os.close(child.fd)
    return results


@functools.cache
def warm_up() -> None:
    """Import what DAG files import, and use it once, in the parent.

    Children inherit the modules and the caches filled on first use (operator signatures
    for default_args, the cron parser, the serializer) instead of each building them again,
    which is a good part of a child's time for a small DAG file.
    """
    for name in WARM_MODULES:
        with contextlib.suppress(ImportError):  # a child then imports it (and reports why)
            importlib.import_module(name)
    with contextlib.suppress(Exception):  # only a speed-up: children do without it
        _serialize_sample_dag()


def _serialize_sample_dag() -> None:
    import pendulum

    from flowsched.authoring.dag import DAG, reset_registry
    from flowsched.operators.bash import BashOperator
    from flowsched.operators.empty import EmptyOperator
    from flowsched.operators.python import PythonOperator
    from flowsched.parsing.serialize import serialize_dag

    start = pendulum.datetime(2024, 1, 1, tz=conf.core.default_timezone)
    with DAG("warm_up", schedule="@daily", start_date=start, default_args={"retries": 1}) as dag:
        EmptyOperator(task_id="start") >> BashOperator(task_id="bash", bash_command="true")
        PythonOperator(task_id="python", python_callable=print)
    serialize_dag(dag)
    reset_registry()


def _ready(
    selector: selectors.BaseSelector, running: dict[int, _Child], timeout: float
) -> list[_Child]:
    """Children that finished (their pipe closed) or overstayed: read what is there."""
    first_deadline = min(child.started for child in running.values()) + timeout + KILL_GRACE
    done: list[_Child] = []
    for key, _ in selector.select(max(0.0, first_deadline - time.monotonic())):
        child: _Child = key.data
        chunk = os.read(child.fd, 1 << 20)
        if chunk:
            child.chunks.append(chunk)
        else:
            done.append(child)
    now = time.monotonic()
    for child in running.values():
        if child not in done and now >= child.started + timeout + KILL_GRACE:
            _kill(child)
            child.chunks.clear()
            done.append(child)
    return done


def _spawn(path: Path, timeout: float) -> _Child:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; it never returns
        os.close(read_fd)
        _run_child(path, write_fd, timeout)
    os.close(write_fd)
    return _Child(path=path, pid=pid, fd=read_fd, started=time.monotonic())


def _run_child(path: Path, write_fd: int, timeout: float) -> None:
    """Import one file and write its result; always leaves with os._exit.

    os._exit skips the parent's atexit hooks and finalizers (its DB connections, its
    temporary files), which belong to the parent, not to this copy of it.
    """
    status = 0
    try:
        gc.freeze()  # the inherited heap is the parent's: never scan (and so copy) it
        os.dup2(2, 1)  # a DAG file's output must not land in `--output json`
        sys.stdout = sys.stderr
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGALRM, _raise_timeout(timeout))
        signal.setitimer(signal.ITIMER_REAL, timeout)
        result = load_file(path)
        signal.setitimer(signal.ITIMER_REAL, 0)
        _write_all(write_fd, _encode(result))
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def _raise_timeout(timeout: float) -> Callable[[int, FrameType | None], None]:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise ImportTimeout(f"timed out after {timeout:g} s")

    return handler


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _kill(child: _Child) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.pid, signal.SIGKILL)


def _collect(child: _Child, timeout: float) -> FileResult:
    """Reap the child and decode what it sent; no result means it died or was killed."""
    _, status = os.waitpid(child.pid, 0)
    duration = time.monotonic() - child.started
    if child.chunks:
        result = _decode(b"".join(child.chunks))
        result.duration = duration
        return result
    return FileResult(
        fileloc=str(child.path),
        failure=ImportFailure(_death_message(status, timeout, duration)),
        duration=duration,
    )


def _death_message(status: int, timeout: float, duration: float) -> str:
    if duration >= timeout + KILL_GRACE:
        return (
            f"timed out after {timeout:g} s and the import process was killed; "
            f"the limit is {TIMEOUT_SETTING}"
        )
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        return f"the import process was killed by signal {name}"
    return f"the import process exited with code {os.waitstatus_to_exitcode(status)}"


def _encode(result: FileResult) -> bytes:
    """JSON by hand: dataclasses.asdict would deep-copy every serialized DAG first."""
    failure = result.failure
    return json.dumps(
        {
            "fileloc": result.fileloc,
            "dags": [
                {"dag_id": dag.dag_id, "data": dag.data, "dag_hash": dag.dag_hash}
                for dag in result.dags
            ],
            "failure": {"message": failure.message, "traceback": failure.traceback}
            if failure
            else None,
        }
    ).encode()


def _decode(payload: bytes) -> FileResult:
    raw = json.loads(payload)
    failure = raw["failure"]
    return FileResult(
        fileloc=raw["fileloc"],
        dags=[ParsedDag(**dag) for dag in raw["dags"]],
        failure=ImportFailure(**failure) if failure else None,
    )
