"""The scheduler-silence alert: nobody is left unwarned when no scheduler runs (issue 10).

A crontab user's worst fear is the job that silently stopped running. Any live flowsched
process other than the scheduler (the web server starts this watch) looks every
``CHECK_EVERY`` seconds at the schedulers' heartbeats. When none has beaten for
``[alerts] scheduler_silence_threshold`` seconds it sends one alert through ``[alerts]``
(e-mail to ``email``, a POST to each of ``webhook_urls``): "no scheduler alive since …,
N runs due and not started"; when a scheduler beats again, one more saying it is back.

"Once" holds across processes and restarts: each alert is an ``audit_log`` row
(``scheduler_silent`` / ``scheduler_back``, user ``system``), and an alert is sent only by
the process that writes the row that changes the state (on PostgreSQL under an advisory
lock, so that two web servers never both write it).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flowsched.config import conf
from flowsched.db import session_scope
from flowsched.db.outage import is_outage
from flowsched.db.tables import AuditLog, DagModel, DagRun, Job, utcnow
from flowsched.notify.email import send_email
from flowsched.notify.webhook import post_webhook, redact_url

logger = logging.getLogger("flowsched.notify")

CHECK_EVERY = 15.0  # seconds between looks at the heartbeats
SILENT, BACK = "scheduler_silent", "scheduler_back"
SILENCE_LOCK = int.from_bytes(b"fssilent", "big")


def check_once(now: datetime | None = None) -> str | None:
    """Look once; send and return the alert's text if the state changed, else None."""
    now = now or utcnow()
    with session_scope() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(SILENCE_LOCK)))
        latest = session.scalar(
            select(func.max(Job.latest_heartbeat)).where(Job.job_type == "scheduler")
        )
        silent = latest is None or now - latest > timedelta(
            seconds=conf.alerts.scheduler_silence_threshold
        )
        said = session.scalar(
            select(AuditLog.event)
            .where(AuditLog.event.in_([SILENT, BACK]))
            .order_by(AuditLog.id.desc())
            .limit(1)
        )
        if latest is None or silent == (said == SILENT):
            return None  # nothing ever ran, nothing changed, or all was always well
        text = _silent_text(session, latest, now) if silent else _back_text(latest)
        session.add(AuditLog(user="system", event=SILENT if silent else BACK, extra=text))
    _send(text)
    return text


def _silent_text(session: Session, latest: datetime, now: datetime) -> str:
    queued = session.scalar(select(func.count()).where(DagRun.state == "queued")) or 0
    due = (
        session.scalar(
            select(func.count()).where(
                DagModel.is_paused.is_(False),
                DagModel.is_active.is_(True),
                DagModel.next_dagrun_create_after <= now,
            )
        )
        or 0
    )
    return (
        f"flowsched: no scheduler alive since {latest.isoformat(timespec='seconds')}, "
        f"{queued + due} runs due and not started"
    )


def _back_text(latest: datetime) -> str:
    beat = latest.isoformat(timespec="seconds")
    return f"flowsched: a scheduler is alive again (heartbeat at {beat})"


def _send(text: str) -> None:
    """Through every ``[alerts]`` channel; a channel that fails is logged, not raised."""
    logger.warning("%s", text)
    recipients = conf.alerts.email
    if recipients:
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = text, conf.smtp.mail_from, ", ".join(recipients)
        msg.set_content(text + "\n")
        try:
            send_email(msg)
        except Exception as exc:
            logger.error("scheduler-silence e-mail not sent: %s", exc)
    for url in conf.alerts.webhook_urls:
        try:
            post_webhook(url, {"text": text})
        except Exception as exc:
            logger.error("scheduler-silence webhook %s failed: %s", redact_url(url), exc)


def watch_in_background(stop: threading.Event) -> threading.Thread:
    """Check every ``CHECK_EVERY`` seconds until ``stop`` is set (a daemon thread)."""

    def loop() -> None:
        while not stop.wait(CHECK_EVERY):
            try:
                check_once()
            except Exception as exc:  # a database outage must not end the watch
                if not is_outage(exc):
                    logger.exception("scheduler-silence check failed")

    thread = threading.Thread(target=loop, name="flowsched-silence-watch", daemon=True)
    thread.start()
    return thread
