"""The scheduler-silence alert: once when no scheduler has beaten for the threshold, once
when one is back, by e-mail and webhook, whoever looks how often."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from flowsched.db import session_scope
from flowsched.db.tables import DagRun, Job, utcnow
from flowsched.notify.silence import check_once


def scheduler_beat(seconds_ago: float) -> None:
    with session_scope() as session:
        job = session.get(Job, 1)
        if job is None:
            session.add(Job(id=1, job_type="scheduler", hostname="h", pid=1, state="running"))
            session.flush()
        session.execute(
            update(Job)
            .where(Job.id == 1)
            .values(latest_heartbeat=utcnow() - timedelta(seconds=seconds_ago))
        )


def test_one_alert_when_silent_and_one_when_back(
    migrated_db, smtp_server, webhook_server, monkeypatch
):
    monkeypatch.setenv("FLOWSCHED__ALERTS__EMAIL", "ops@example.com")
    monkeypatch.setenv("FLOWSCHED__ALERTS__WEBHOOK_URLS", webhook_server.url)
    with session_scope() as session:
        session.add(
            DagRun(
                dag_id="etl", run_id="r", logical_date=utcnow(), state="queued", run_type="manual"
            )
        )
    scheduler_beat(seconds_ago=10)
    assert check_once() is None  # alive: nothing to say

    scheduler_beat(seconds_ago=600)
    silent = check_once()
    assert check_once() is None  # said once, however often anyone looks
    scheduler_beat(seconds_ago=1)
    back = check_once()
    assert check_once() is None

    assert silent is not None and "no scheduler alive since" in silent
    assert silent.endswith("1 runs due and not started")
    assert back is not None and "alive again" in back
    assert [m["Subject"] for m in smtp_server.messages] == [silent, back]
    assert [r["json"]["text"] for r in webhook_server.requests] == [silent, back]
