"""The scheduler's Job row: proof of life for the UI's health check and for the CLI.

A heartbeat is an UPDATE of one row, done at most every
``scheduler.scheduler_heartbeat_interval`` seconds, so a busy loop never pays for it twice.
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from flowsched.config import conf
from flowsched.db import session_scope
from flowsched.db.tables import Job, utcnow

JOB_TYPE = "scheduler"


class SchedulerJob:
    """Create the row at start, beat while alive, close it with the exit state."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.id: int | None = None
        self._last_beat = 0.0

    def start(self) -> None:
        with session_scope() as session:
            job = Job(job_type=JOB_TYPE, hostname=socket.gethostname(), pid=os.getpid())
            job.state = "running"
            session.add(job)
            session.flush()
            self.id = job.id
        self._last_beat = time.monotonic()

    def heartbeat_if_due(self, session: Session) -> None:
        """Beat inside the caller's transaction (no extra commit) when the interval passed."""
        if time.monotonic() - self._last_beat < self.interval:
            return
        # state too: a scheduler that another took for dead (a pause longer than the
        # threshold) is alive again
        session.execute(
            update(Job)
            .where(Job.id == self.id)
            .values(latest_heartbeat=utcnow(), state="running", end_date=None)
        )
        self._last_beat = time.monotonic()

    def finish(self, state: str) -> None:
        with session_scope() as session:
            session.execute(
                update(Job).where(Job.id == self.id).values(state=state, end_date=utcnow())
            )


class DeadScheduler(NamedTuple):
    id: int
    hostname: str
    pid: int
    latest_heartbeat: datetime


def claim_dead_schedulers(
    session: Session, now: datetime, threshold: float, me: int | None = None
) -> list[DeadScheduler]:
    """Schedulers still marked running whose heartbeat is older than ``threshold`` seconds
    (killed, crashed, their machine lost), marked ``failed`` here. One guarded UPDATE, so
    that of several live schedulers exactly one takes over the work of each dead one."""
    rows = session.execute(
        update(Job)
        .where(
            Job.job_type == JOB_TYPE,
            Job.state == "running",
            Job.latest_heartbeat < now - timedelta(seconds=threshold),
            Job.id != me,
        )
        .values(state="failed", end_date=now)
        .returning(Job.id, Job.hostname, Job.pid, Job.latest_heartbeat)
        .execution_options(synchronize_session=False)
    )
    return [DeadScheduler(*row) for row in rows]


def live_scheduler_count(session: Session) -> int:
    """Schedulers whose heartbeat is recent (three intervals, to tolerate a slow pass)."""
    interval = conf.scheduler.scheduler_heartbeat_interval
    since = utcnow() - timedelta(seconds=3 * interval + 1)
    rows = session.scalars(
        select(Job.id).where(
            Job.job_type == JOB_TYPE, Job.state == "running", Job.latest_heartbeat >= since
        )
    )
    return len(rows.all())
