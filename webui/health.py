"""Is flowsched working? The database answers, and a scheduler heartbeat is recent.

With several schedulers (PostgreSQL, high availability) the answer lists every alive one,
so a monitor sees when one of two is gone while the service is still healthy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from flowsched.db import session_scope
from flowsched.db.outage import first_line
from flowsched.db.tables import Job, utcnow
from flowsched.liveness import MISSED_HEARTBEATS, AliveJob, alive_jobs, alive_threshold

__all__ = ["MISSED_HEARTBEATS", "Health", "check_health", "latest_scheduler_heartbeat"]


@dataclass
class Health:
    database_ok: bool
    latest_heartbeat: datetime | None
    heartbeat_age: float | None
    schedulers: Sequence[AliveJob] = field(default_factory=tuple)  # alive, latest beat first
    database_error: str | None = None  # "database unreachable: <the driver's reason>"

    @property
    def scheduler_ok(self) -> bool:
        return self.heartbeat_age is not None and self.heartbeat_age <= alive_threshold()

    @property
    def healthy(self) -> bool:
        return self.database_ok and self.scheduler_ok

    def as_json(self) -> dict[str, Any]:
        def status(ok: bool) -> str:
            return "healthy" if ok else "unhealthy"

        database: dict[str, Any] = {"status": status(self.database_ok)}
        if self.database_error:
            database["message"] = self.database_error
        return {
            "status": status(self.healthy),
            **({"message": self.database_error} if self.database_error else {}),
            "metadatabase": database,
            "scheduler": {
                "status": status(self.scheduler_ok),
                "latest_scheduler_heartbeat": self.latest_heartbeat,
                "heartbeat_age_seconds": self.heartbeat_age,
                "alive_schedulers": [
                    {
                        "hostname": job.hostname,
                        "pid": job.pid,
                        "latest_heartbeat": job.latest_heartbeat,
                        "heartbeat_age_seconds": round(job.heartbeat_age, 3),
                    }
                    for job in self.schedulers
                ],
            },
        }


def latest_scheduler_heartbeat(session: Session) -> datetime | None:
    return session.scalar(
        select(Job.latest_heartbeat)
        .where(Job.job_type == "scheduler", Job.state == "running")
        .order_by(Job.latest_heartbeat.desc())
        .limit(1)
    )


def check_health() -> Health:
    try:
        with session_scope(readonly=True) as session:
            session.execute(text("SELECT 1"))
            beat = latest_scheduler_heartbeat(session)
            schedulers = alive_jobs(session, job_type="scheduler")
    except SQLAlchemyError as error:
        return Health(
            False, None, None, database_error=f"database unreachable: {first_line(error)}"
        )
    age = (utcnow() - beat).total_seconds() if beat else None
    return Health(True, beat, age, schedulers)
