"""A try's outcome, kept beside its log until it is recorded (issue 10).

The try's process writes ``attempt=<n>.outcome.json`` beside ``attempt=<n>.log`` as soon
as the task's code has ended, before handing the outcome to its supervisor, which removes
the file once the outcome is committed. Should the supervisor die first (its worker or
scheduler killed), or the database be unreachable for longer than it lives, the outcome
is not lost: the scheduler that finds the try lost sends the same try again, and the
supervisor that claims it records this outcome instead of running the task's code again
(as does a supervisor whose try died right after writing it). JSON, never pickle: the
log folder is not a place to load code from.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from flowsched.db.failure import TryError
from flowsched.runner.execution import TryResult
from flowsched.task_logs import outcome_path as _path_of
from flowsched.tries import TaskKey

logger = logging.getLogger("flowsched.executor")


def outcome_path(key: TaskKey) -> Path:
    return _path_of(*key)


def save(key: TaskKey, result: TryResult) -> None:
    """Write the outcome (atomically); a log folder that cannot take it (full, read-only:
    said once by the try's log) leaves the outcome to the pipe and the supervisor's memory."""
    path = outcome_path(key)
    data = {
        "state": result.state,
        "ended_at": result.ended_at.isoformat(),
        "xcoms": result.xcoms,
        "skip": sorted(result.skip),
        "reschedule_date": _iso(result.reschedule_date),
        "error": None if result.error is None else result.error.__reduce__()[1],
        "deferral": result.deferral,
    }
    temporary = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(data), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def load(key: TaskKey) -> TryResult | None:
    """The outcome a supervisor kept and could not record, if any (None if unreadable)."""
    try:
        data: dict[str, Any] = json.loads(outcome_path(key).read_text(encoding="utf-8"))
        return TryResult(
            state=data["state"],
            ended_at=datetime.fromisoformat(data["ended_at"]),
            xcoms=data["xcoms"],
            skip=set(data["skip"]),
            reschedule_date=_parse(data["reschedule_date"]),
            error=None if data["error"] is None else TryError(*data["error"]),
            deferral=data["deferral"],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def discard(key: TaskKey) -> None:
    try:
        outcome_path(key).unlink(missing_ok=True)
    except OSError as exc:
        logger.warning("%s: could not remove %s: %s", key, outcome_path(key), exc.strerror)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None
