"""What an alert is about: one value that the runner or the scheduler builds, and every
channel (e-mail, webhook, author notifiers) reads.

Keeping this a plain dataclass, with no database object in it, lets the runner hand it to
a notifier after its session is closed and lets tests build one in a line.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import quote, urlencode

from flowsched.config import conf

EventKind = Literal["failure", "retry", "success", "dag_failure", "sla_miss"]

_VERBS: dict[EventKind, str] = {
    "failure": "Failed",
    "retry": "Up for retry",
    "success": "Succeeded",
    "dag_failure": "Run failed",
    "sla_miss": "SLA missed",
}


@dataclass(frozen=True)
class TaskEvent:
    """One finished try (or, for ``dag_failure``, one failed run; for ``sla_miss``, a task
    instance not done by its deadline) worth telling people about.

    ``try_number`` counts from 1 and ``max_tries`` is the total number of tries the task
    may have (``retries + 1``), so "try 2/3" reads as people expect. ``log_url`` is derived
    from ``[webserver] base_url`` when left empty, so callers never build URLs by hand.
    """

    kind: EventKind
    dag_id: str
    task_id: str | None
    run_id: str
    logical_date: datetime | None
    try_number: int = 1
    max_tries: int = 1
    state: str | None = None
    exception: str | None = None
    log_path: Path | None = None
    log_url: str = ""
    recipients: list[str] = field(default_factory=list)
    email_on_failure: bool = True
    email_on_retry: bool = True
    webhook_urls: list[str] = field(default_factory=list)
    hostname: str = field(default_factory=socket.gethostname)
    map_index: int = -1

    def __post_init__(self) -> None:
        if self.kind not in get_args(EventKind):
            raise ValueError(f"unknown event kind {self.kind!r}")
        if self.logical_date is not None and self.logical_date.utcoffset() is None:
            raise ValueError("logical_date must be timezone-aware")
        if not self.log_url:
            object.__setattr__(self, "log_url", self._default_url())

    def _default_url(self) -> str:
        if self.task_id is None:
            return run_url_for(self.dag_id, self.run_id)
        return log_url_for(self.dag_id, self.run_id, self.task_id, self.map_index, self.try_number)

    @property
    def label(self) -> str:
        """``dag.task`` (``dag.task[3]`` for a mapped instance, ``dag`` for a run)."""
        if self.task_id is None:
            return self.dag_id
        suffix = f"[{self.map_index}]" if self.map_index >= 0 else ""
        return f"{self.dag_id}.{self.task_id}{suffix}"

    @property
    def headline(self) -> str:
        """``Failed: etl.load (try 2/3)``: the subject of an e-mail, the start of a message."""
        verb = _VERBS[self.kind]
        if self.task_id is None or self.kind == "sla_miss":
            return f"{verb}: {self.label} (run {self.run_id})"
        return f"{verb}: {self.label} (try {self.try_number}/{self.max_tries})"


def mask(text: str) -> str:
    """Hide registered secrets in free text (an exception message, a log tail).

    The runner masks log files as it writes them; an exception message or an event built
    elsewhere has had no such pass, and alerts leave the machine.
    """
    # imported on use, so that importing flowsched.notify does not import the runner package
    from flowsched.masking import mask_secrets

    return mask_secrets(text)


def _segment(value: str) -> str:
    # safe="" so that "/", "+" and ":" in ids (run ids hold an ISO date) stay one segment
    return quote(value, safe="")


def run_url_for(dag_id: str, run_id: str) -> str:
    """The web UI page of one DAG run."""
    base = conf.webserver.base_url.rstrip("/")
    return f"{base}/dags/{_segment(dag_id)}/runs/{_segment(run_id)}"


def log_url_for(dag_id: str, run_id: str, task_id: str, map_index: int, try_number: int) -> str:
    """The web UI page showing the log of one try."""
    query = urlencode({"map_index": map_index, "try": try_number})
    return f"{run_url_for(dag_id, run_id)}/tasks/{_segment(task_id)}?{query}"
