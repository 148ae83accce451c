"""Which long-running processes are alive, judged by the heartbeats of their Job rows.

Schedulers and workers each keep a ``job`` row (``job_type`` "scheduler" or "worker")
whose ``latest_heartbeat`` they refresh every ``scheduler.scheduler_heartbeat_interval``
seconds. A job is alive while its row says ``running`` and its heartbeat is younger than
``MISSED_HEARTBEATS`` intervals (6 x 5 s = 30 s by default, Airflow's
``scheduler_health_check_threshold``): a process killed with ``kill -9`` never closes its
row, so the heartbeat's age is what tells. One rule for ``/health`` and
``flowsched jobs check``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from flowsched.config import conf
from flowsched.db.tables import Job, utcnow

MISSED_HEARTBEATS = 6
JOB_TYPES = ("scheduler", "worker")


def alive_threshold() -> float:
    """Seconds without a heartbeat after which a job counts as dead."""
    return MISSED_HEARTBEATS * conf.scheduler.scheduler_heartbeat_interval


@dataclass(frozen=True)
class AliveJob:
    id: int
    job_type: str
    hostname: str
    pid: int
    start_date: datetime
    latest_heartbeat: datetime
    heartbeat_age: float  # seconds

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "job_type": self.job_type,
            "hostname": self.hostname,
            "pid": self.pid,
            "start_date": self.start_date,
            "latest_heartbeat": self.latest_heartbeat,
            "heartbeat_age_seconds": round(self.heartbeat_age, 3),
        }


def alive_jobs(
    session: Session,
    job_type: str | None = None,
    hostname: str | None = None,
    limit: int | None = None,
) -> Sequence[AliveJob]:
    """Alive jobs, most recent heartbeat first.

    ``hostname`` matches the row's hostname, or the machine part of a Celery node name
    (``worker1@host`` matches ``host``).
    """
    now = utcnow()
    query = (
        select(Job)
        .where(
            Job.state == "running",
            Job.latest_heartbeat >= now - timedelta(seconds=alive_threshold()),
        )
        .order_by(Job.latest_heartbeat.desc(), Job.id.desc())
    )
    if job_type is not None:
        query = query.where(Job.job_type == job_type)
    if hostname is not None:
        query = query.where(
            or_(Job.hostname == hostname, Job.hostname.endswith(f"@{hostname}", autoescape=True))
        )
    if limit is not None:
        query = query.limit(limit)
    return [
        AliveJob(
            job.id,
            job.job_type,
            job.hostname,
            job.pid,
            job.start_date,
            job.latest_heartbeat,
            max(0.0, (now - job.latest_heartbeat).total_seconds()),
        )
        for job in session.scalars(query)
    ]
