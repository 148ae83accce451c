"""Helpers of the Celery suites: real `flowsched worker` processes, and broker queues
private to one test (so that no test consumes another's messages)."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from kombu import Exchange, Queue

from flowsched.executors.celery_app import create_app
from tests.e2e.support import FLOWSCHED, Scheduler, wait_for


def unique_queue(label: str) -> str:
    return f"fs-test-{label}-{uuid.uuid4().hex[:10]}"


@contextmanager
def private_queues(
    monkeypatch: pytest.MonkeyPatch, broker_url: str, *labels: str
) -> Iterator[dict[str, str]]:
    """Point ``[celery]`` at ``broker_url`` with a fresh default queue; one fresh queue name
    per label ("default" included); the queues are deleted from the broker afterwards."""
    names = {label: unique_queue(label) for label in ("default", *labels)}
    monkeypatch.setenv("FLOWSCHED__CELERY__BROKER_URL", broker_url)
    monkeypatch.setenv("FLOWSCHED__CELERY__DEFAULT_QUEUE", names["default"])
    try:
        yield names
    finally:
        delete_queues(names.values())


def delete_queues(names: Iterable[str]) -> None:
    """Delete the queues (and the exchanges Celery made for them) from the broker.

    Each is declared first, as Celery declares a queue it was not told about: a fresh
    channel knows no bindings, and kombu's Redis transport deletes only known ones.
    """
    app = create_app()
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for name in names:
            queue = Queue(name, Exchange(name, type="direct"), routing_key=name)(channel)
            queue.declare()
            queue.delete()
            queue.exchange.delete()
    app.close()


class Worker:
    """One `flowsched worker` process; its output goes to a file for post-mortems."""

    def __init__(self, home: Path, name: str, *args: str, env: dict[str, str] | None = None):
        self.name = name
        self.log = home / f"worker-{name}.log"
        self.args = ["--hostname", f"{name}@%h", *args]
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

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

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM (Celery's warm shutdown) and wait."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill_everything(self) -> None:
        """SIGKILL the worker and every process below it at once, tries included (a lost
        machine): nothing is left to record the try's end or beat its heartbeat."""
        assert self.process is not None
        for pid in [self.pid, *descendants(self.pid)]:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def still_running(*processes: Worker | Scheduler) -> bool:
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
