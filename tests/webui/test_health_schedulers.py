"""/health with several schedulers (PostgreSQL HA): every alive one is listed."""

from __future__ import annotations

from datetime import timedelta

from flowsched import db
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


def test_an_unreachable_database_is_a_503_that_says_so(anonymous, app, monkeypatch):
    """The web server stays up through a database outage: /health and every page answer
    503 with the reason, and answer again once the database is back."""
    closed_port = "postgresql+psycopg://postgres@127.0.0.1:9/flowsched"
    monkeypatch.setenv("FLOWSCHED__DATABASE__SQL_ALCHEMY_CONN", closed_port)
    db.dispose_engines()

    health = anonymous.get("/health")
    api = anonymous.get("/api/v1/dags", auth=("admin", "admin-password"))

    assert health.status_code == 503
    assert health.get_json()["message"].startswith("database unreachable: ")
    assert health.get_json()["metadatabase"]["status"] == "unhealthy"
    assert api.status_code == 503
    assert api.get_json()["message"].startswith("database unreachable: ")
    monkeypatch.undo()
    db.dispose_engines()
