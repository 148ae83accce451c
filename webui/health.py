"""Is flowsched working? The database answers, and a scheduler heartbeat is recent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from flowsched.config import conf
from flowsched.db import session_scope
from flowsched.models import Job, utcnow

# Missing this many heartbeats in a row means the scheduler is gone (6 x 5 s = 30 s,
# Airflow's scheduler_health_check_threshold).
MISSED_HEARTBEATS = 6


@dataclass
class Health:
    database_ok: bool
    latest_heartbeat: datetime | None
    heartbeat_age: float | None

    @property
    def scheduler_ok(self) -> bool:
        limit = MISSED_HEARTBEATS * conf.getfloat("scheduler", "scheduler_heartbeat_interval")
        return self.heartbeat_age is not None and self.heartbeat_age <= limit

    @property
    def healthy(self) -> bool:
        return self.database_ok and self.scheduler_ok

    def as_json(self) -> dict[str, Any]:
        def status(ok: bool) -> str:
            return "healthy" if ok else "unhealthy"

        return {
            "status": status(self.healthy),
            "metadatabase": {"status": status(self.database_ok)},
            "scheduler": {
                "status": status(self.scheduler_ok),
                "latest_scheduler_heartbeat": self.latest_heartbeat,
                "heartbeat_age_seconds": self.heartbeat_age,
            },
        }


def latest_scheduler_heartbeat(session: Any) -> datetime | None:
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
    except SQLAlchemyError:
        return Health(False, None, None)
    age = (utcnow() - beat).total_seconds() if beat else None
    return Health(True, beat, age)
