"""/health with several schedulers (PostgreSQL HA): every alive one is listed."""

from __future__ import annotations

from datetime import timedelta

from flowsched.db import session_scope
from flowsched.db.tables import Job, utcnow


def add_scheduler(hostname: str, pid: int, age: float) -> None:
    with session_scope() as session:
        session.add(
            Job(
                job_type="scheduler",
                hostname=hostname,
                pid=pid,
                state="running",
                latest_heartbeat=utcnow() - timedelta(seconds=age),
            )
        )


def test_health_lists_every_alive_scheduler(anonymous, app):
    add_scheduler("a", 1, age=2)
    add_scheduler("b", 2, age=1)
    add_scheduler("dead", 3, age=600)
    body = anonymous.get("/health").get_json()
    assert body["status"] == "healthy"
    alive = body["scheduler"]["alive_schedulers"]
    assert [(s["hostname"], s["pid"]) for s in alive] == [("b", 2), ("a", 1)]
    assert all(0 <= s["heartbeat_age_seconds"] < 30 for s in alive)
    assert body["scheduler"]["heartbeat_age_seconds"] < 2


def test_only_dead_schedulers_is_unhealthy_with_an_empty_list(anonymous, app):
    add_scheduler("dead", 3, age=600)
    response = anonymous.get("/health")
    assert response.status_code == 503
    scheduler = response.get_json()["scheduler"]
    assert scheduler["status"] == "unhealthy" and scheduler["alive_schedulers"] == []
    assert scheduler["heartbeat_age_seconds"] > 500
