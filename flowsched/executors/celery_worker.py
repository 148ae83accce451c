"""A Celery worker of the flowsched app (prefork pool), with its Job row.

The Job row (``job_type = "worker"``) is the worker's proof of life for the UI and the
CLI. It is written through an engine of its own without a pool: the prefork pool forks
its processes from this one, and a pool process (or a try it forks) that inherited a
pooled connection would close it when it drops its parent's engines, cutting this
process's connection to the database under it.
"""

from __future__ import annotations

import logging
import os
import threading

from celery.utils.nodenames import default_nodename, host_format
from sqlalchemy import Engine, create_engine, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from flowsched import db
from flowsched.config import conf
from flowsched.db.tables import Job, utcnow
from flowsched.executors.celery_app import create_app

logger = logging.getLogger("flowsched.worker")

JOB_TYPE = "worker"


class WorkerJob:
    """Create the row at start, beat from a thread while alive, close it with the exit state."""

    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        self.id: int | None = None
        self._engine: Engine = create_engine(db.database_url(), poolclass=NullPool)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="flowsched-worker-job", daemon=True)

    def start(self) -> None:
        with Session(self._engine) as session, session.begin():
            job = Job(job_type=JOB_TYPE, hostname=self.hostname, pid=os.getpid(), state="running")
            session.add(job)
            session.flush()
            self.id = job.id
        self._thread.start()

    def finish(self, state: str) -> None:
        self._stopped.set()
        self._thread.join()
        self._update(state=state, end_date=utcnow())
        self._engine.dispose()

    def _beat(self) -> None:
        interval = conf.scheduler.scheduler_heartbeat_interval
        while not self._stopped.wait(interval):
            try:
                self._update(latest_heartbeat=utcnow())
            except Exception as exc:  # a database away for a moment: the next beat retries
                logger.warning("worker heartbeat failed: %s", exc)

    def _update(self, **values: object) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(update(Job).where(Job.id == self.id).values(**values))


def run_worker(queues: list[str], concurrency: int, hostname: str) -> int:
    """Serve ``queues`` until stopped (SIGTERM: warm shutdown); the exit status.

    ``hostname`` is a Celery node name: ``%h`` and the like expand as in ``celery worker``.
    """
    db.require_current_schema()
    db.dispose_engines()  # the pool processes must not inherit the check's connection
    nodename = host_format(default_nodename(hostname))
    worker = create_app().Worker(
        hostname=nodename,
        queues=queues,
        concurrency=concurrency,
        pool_cls="prefork",
        loglevel=conf.logging.level,
        # Celery's own cluster chatter: flowsched reads workers' health from the Job rows.
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
    )
    job = WorkerJob(nodename)
    job.start()
    exitcode = 1
    try:
        worker.start()
        exitcode = worker.exitcode or 0
    finally:
        job.finish("success" if exitcode == 0 else "failed")
    return exitcode
