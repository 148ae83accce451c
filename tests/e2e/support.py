"""End-to-end helpers: a real `flowsched scheduler` process on a temp home, observed
through the database, the CLI and files the tasks write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from flowsched.db import session_scope
from flowsched.db.tables import DagModel, DagRun, TaskInstance, XCom

FLOWSCHED = str(Path(sys.executable).with_name("flowsched"))
WAIT = 90.0  # generous ceiling for any one condition on a loaded machine


def flowsched(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real CLI; output captured as text."""
    result = subprocess.run([FLOWSCHED, *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"flowsched {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll ``condition`` until it returns something true; fail with ``what`` if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


class FlowschedProcess:
    """A `flowsched` server process a test started (scheduler or worker), its output in
    ``log``; the handling both kinds share, so that a test can stop either the same way."""

    log: Path
    process: subprocess.Popen[bytes] | None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM and wait: a scheduler lets running tries finish first, a worker does
        Celery's warm shutdown."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Scheduler(FlowschedProcess):
    """One `flowsched scheduler` process; its output goes to a file for post-mortems."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.log = home / "scheduler-test.log"
        self.process = None

    def start(self, *args: str, own_group: bool = False) -> Scheduler:
        """``own_group``: in a process group (session) of its own, as a service manager
        starts it, so that ``kill_group`` reaches it and its workers, and nothing else."""
        output = self.log.open("ab")
        self.process = subprocess.Popen(
            [FLOWSCHED, "scheduler", *args],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=own_group,
        )
        output.close()
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def kill_group(self) -> None:
        """``kill -9`` of the scheduler's whole process group (started with ``own_group``)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


class Worker(FlowschedProcess):
    """One `flowsched worker` process; its output goes to a file for post-mortems."""

    def __init__(self, home: Path, name: str, *args: str, env: dict[str, str] | None = None):
        self.name = name
        self.log = home / f"worker-{name}.log"
        self.args = ["--hostname", f"{name}@%h", *args]
        self.env = {**os.environ, **(env or {})}
        self.process = None

    def start(self) -> Worker:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [FLOWSCHED, "worker", *self.args],
                stdout=output,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        wait_for(self._ready, f"worker {self.name} to be ready")
        return self

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"worker {self.name} exited:\n{self.output()}")
        return " ready." in self.output()

    def kill_everything(self) -> None:
        """SIGKILL the worker and every process below it at once, tries included (a lost
        machine): nothing is left to record the try's end or beat its heartbeat."""
        assert self.process is not None
        for pid in [self.pid, *descendants(self.pid)]:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(10)

    def output(self) -> str:
        """Empty until the worker has written its log (readiness is polled from the start)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def still_running(*processes: FlowschedProcess) -> bool:
    """True, or an AssertionError with the output of the first process that exited (so a
    wait fails at once, not after its timeout)."""
    for process in processes:
        assert process.process is not None
        if process.process.poll() is not None:
            raise AssertionError(f"{process.log.name} exited early:\n{process.output()}")
    return True


def stop_all(processes: Sequence[Worker | Scheduler]) -> None:
    """SIGTERM whatever still runs, all at once (a Celery warm shutdown takes seconds),
    then wait for each; kill what does not stop."""
    running = [p for p in processes if p.process is not None and p.process.poll() is None]
    for process in running:
        process.process.send_signal(signal.SIGTERM)
    for process in running:
        try:
            process.process.wait(20)
        except subprocess.TimeoutExpired:
            if isinstance(process, Worker):
                process.kill_everything()
            else:
                process.kill()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children of any of its threads, recursively)."""
    found: list[int] = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with suppress(FileNotFoundError):
            for child in map(int, children.read_text().split()):
                found += [child, *descendants(child)]
    return found


def process_running(pid: int) -> bool:
    """Alive and not a zombie process waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def write_dag(dags_folder: Path, name: str, source: str, **values: Any) -> Path:
    """A DAG file from dedented ``source``, with ``{name}`` placeholders filled in."""
    path = dags_folder / f"{name}.py"
    text = textwrap.dedent(source)
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    path.write_text(text)
    return path


def unpause(dag_id: str) -> None:
    flowsched("dags", "unpause", dag_id)


def runs_of(dag_id: str) -> list[DagRun]:
    with session_scope(readonly=True) as session:
        found = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.logical_date)
        ).all()
        session.expunge_all()
        return list(found)


def ti_states(dag_id: str, run_id: str | None = None) -> dict[str, str | None]:
    """``task_id`` (``task_id[i]`` for a mapped instance) -> state."""
    query = select(TaskInstance).where(TaskInstance.dag_id == dag_id)
    if run_id is not None:
        query = query.where(TaskInstance.run_id == run_id)
    with session_scope(readonly=True) as session:
        return {
            (ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"): ti.state
            for ti in session.scalars(query)
        }


def tis_of(dag_id: str) -> list[TaskInstance]:
    with session_scope(readonly=True) as session:
        found = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == dag_id)).all()
        session.expunge_all()
        return list(found)


def finished_run(dag_id: str) -> DagRun | None:
    """The DAG's first run once it has ended."""
    found = runs_of(dag_id)
    return found[0] if found and found[0].state in ("success", "failed") else None


def wait_for_dag(dag_id: str) -> None:
    """Until the scheduler has parsed the DAG (the scheduler scans every second)."""

    def known() -> bool:
        with session_scope(readonly=True) as session:
            return session.get(DagModel, dag_id) is not None

    wait_for(known, f"DAG {dag_id} to be parsed")


def set_paused(dag_id: str, paused: bool) -> None:
    with session_scope() as session:
        session.execute(update(DagModel).where(DagModel.dag_id == dag_id).values(is_paused=paused))


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The largest number of intervals open at one instant."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    best = current = 0
    for _, step in edges:
        current += step
        best = max(best, current)
    return best


def read_intervals(folder: Path) -> list[tuple[float, float]]:
    """Tasks write "start end" (time.time()) into one file each."""
    return [tuple(map(float, path.read_text().split())) for path in sorted(folder.glob("*.span"))]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def xcom_value(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str | None:
    """The JSON text of a task's return value."""
    with session_scope(readonly=True) as session:
        return session.scalar(
            select(XCom.value).where(
                XCom.dag_id == dag_id,
                XCom.run_id == run_id,
                XCom.task_id == task_id,
                XCom.map_index == map_index,
                XCom.key == "return_value",
            )
        )
