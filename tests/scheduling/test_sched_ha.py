"""Two schedulers' passes racing on PostgreSQL, replayed step by step with two sessions.

Each test holds scheduler A's pass open (its transaction uncommitted, its row locks held)
while scheduler B runs the same step, which is the moment row locks alone do not cover:
what A decided is not visible to B yet.
"""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from flowsched import db
from flowsched.db import run_rules, session_scope
from flowsched.db.tables import DagModel, DagRun, Job, Pool, TaskInstance, utcnow
from flowsched.parsing.scan import parse_dags_folder
from flowsched.scheduling import dispatch, jobs, runs
from flowsched.scheduling.dagstore import DagStore
from flowsched.scheduling.settings import SchedulerSettings
from flowsched.timetables import DataInterval

pytestmark = pytest.mark.postgres

DAGS = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.empty import EmptyOperator

    with DAG("one_at_a_time", schedule=None, start_date=pendulum.datetime(2024, 1, 1),
             max_active_runs=1):
        EmptyOperator(task_id="only")

    with DAG("pooled", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
        for i in range(6):
            EmptyOperator(task_id=f"p{i}", pool="two")
"""


@pytest.fixture
def pg(postgres_url: str, dags_folder: Path) -> Iterator[None]:
    db.upgrade_db()
    (dags_folder / "dags.py").write_text(textwrap.dedent(DAGS))
    parse_dags_folder()
    with session_scope() as session:
        session.execute(update(DagModel).values(is_paused=False))
        session.add(Pool(pool="two", slots=2))
    yield


def queue_manual_run(dag_id: str, name: str) -> None:
    now = utcnow()
    with session_scope() as session:
        session.add(
            run_rules.new_run(
                dag_id,
                run_rules.MANUAL,
                DataInterval(now, now),
                run_after=now,
                logical_date=now,
                run_id=name,
            )
        )


def running_runs(dag_id: str) -> list[str]:
    with session_scope(readonly=True) as session:
        return list(
            session.scalars(
                select(DagRun.run_id).where(DagRun.dag_id == dag_id, DagRun.state == "running")
            )
        )


def pass_session() -> Session:
    """A scheduler pass's session, left open by the test."""
    return db._session_factory(False)()


def test_two_schedulers_never_start_more_runs_than_max_active_runs(pg: None) -> None:
    queue_manual_run("one_at_a_time", "first")
    pass_a, pass_b = pass_session(), pass_session()
    try:
        started_a = runs.start_queued_runs(pass_a, DagStore(), utcnow())
        queue_manual_run("one_at_a_time", "second")  # triggered while A's pass is open
        started_b = runs.start_queued_runs(pass_b, DagStore(), utcnow())
        pass_a.commit()
        pass_b.commit()
    finally:
        pass_a.close()
        pass_b.close()
    assert [run.run_id for run in started_a] == ["first"]
    assert started_b == []
    assert running_runs("one_at_a_time") == ["first"]


def test_two_schedulers_never_queue_more_than_a_pool_holds(pg: None) -> None:
    queue_manual_run("pooled", "run")
    with session_scope() as session:
        assert runs.start_queued_runs(session, DagStore(), utcnow())
        schedule(session, ["p0", "p1"])
    settings = SchedulerSettings.from_conf()
    pass_a, pass_b = pass_session(), pass_session()
    queued_by_b: list[dispatch.Dispatch] = []

    def scheduler_b() -> None:
        schedule(pass_b, ["p2", "p3", "p4", "p5"])  # what B's own look at the run found
        queued_by_b.extend(
            dispatch.queue_scheduled(pass_b, DagStore(), 10, "celery", utcnow(), settings)
        )
        pass_b.commit()

    try:
        queued_by_a = dispatch.queue_scheduled(pass_a, DagStore(), 10, "celery", utcnow(), settings)
        other = threading.Thread(target=scheduler_b)
        other.start()
        time.sleep(0.5)  # B's pass runs now, while A's is still open
        pass_a.commit()
        other.join(30)
        assert not other.is_alive()
    finally:
        pass_a.close()
        pass_b.close()
    assert len(queued_by_a) == 2
    assert queued_by_b == []
    with session_scope(readonly=True) as session:
        queued = session.scalar(select(func.count()).where(TaskInstance.state == "queued"))
    assert queued == 2


def schedule(session: Session, task_ids: list[str]) -> None:
    session.execute(
        update(TaskInstance)
        .where(TaskInstance.task_id.in_(task_ids))
        .values(state="scheduled", try_number=1)
    )


def test_a_dead_scheduler_is_claimed_by_exactly_one_other(pg: None) -> None:
    now = utcnow()
    with session_scope() as session:
        for hostname, age in (("alive", 1), ("dead", 120)):
            beat = now - timedelta(seconds=age)
            session.add(Job(job_type="scheduler", hostname=hostname, pid=1, state="running",
                            latest_heartbeat=beat))  # fmt: skip
        session.add(Job(job_type="worker", hostname="w@dead", pid=2, state="running",
                        latest_heartbeat=now - timedelta(seconds=120)))  # fmt: skip
    with session_scope() as session:
        claimed = jobs.claim_dead_schedulers(session, now, threshold=30)
    with session_scope() as session:
        again = jobs.claim_dead_schedulers(session, now, threshold=30)
    with session_scope(readonly=True) as session:
        states = dict(session.execute(select(Job.hostname, Job.state)).all())
    assert [job.hostname for job in claimed] == ["dead"]
    assert again == []
    assert states == {"alive": "running", "dead": "failed", "w@dead": "running"}
