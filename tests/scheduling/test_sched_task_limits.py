"""max_active_tis_per_dag / max_active_tis_per_dagrun: how many instances of one task may
be queued or running at once, across the DAG's runs or within one run."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

from sqlalchemy import update

from flowsched.db import run_rules, session_scope
from flowsched.db.tables import DagModel, TaskInstance, utcnow
from flowsched.parsing.scan import parse_dags_folder
from flowsched.scheduling import dispatch, runs
from flowsched.scheduling.dagstore import DagStore
from flowsched.scheduling.settings import SchedulerSettings
from flowsched.timetables import DataInterval

DAG_FILE = """
    import pendulum
    from flowsched import DAG
    from flowsched.operators.empty import EmptyOperator

    with DAG("limited", schedule=None, start_date=pendulum.datetime(2024, 1, 1),
             max_active_runs=3):
        EmptyOperator(task_id="one_in_dag", max_active_tis_per_dag=1)
        EmptyOperator(task_id="two_in_dag", task_concurrency=2)
        EmptyOperator(task_id="one_per_run", max_active_tis_per_dagrun=1)
        EmptyOperator(task_id="free")
"""


def start_three_runs(dags_folder: Path) -> None:
    (dags_folder / "limited.py").write_text(textwrap.dedent(DAG_FILE))
    parse_dags_folder()
    now = utcnow()
    with session_scope() as session:
        session.execute(update(DagModel).values(is_paused=False))
        for n in range(3):
            session.add(
                run_rules.new_run(
                    "limited",
                    run_rules.MANUAL,
                    DataInterval(now, now),
                    run_after=now,
                    logical_date=now.replace(year=2020 + n),
                    run_id=f"run{n}",
                )
            )
    with session_scope() as session:
        runs.start_queued_runs(session, DagStore(), now)
        session.execute(update(TaskInstance).values(state="scheduled", try_number=1))


def queue_a_pass() -> Counter[str]:
    with session_scope() as session:
        queued = dispatch.queue_scheduled(
            session, DagStore(), 100, "local", utcnow(), SchedulerSettings.from_conf()
        )
    return Counter(item.key.task_id for item in queued)


def test_task_limits_hold_across_runs_and_within_a_run(migrated_db: Path, dags_folder: Path):
    start_three_runs(dags_folder)
    assert queue_a_pass() == {"one_in_dag": 1, "two_in_dag": 2, "one_per_run": 3, "free": 3}
    assert queue_a_pass() == {}  # the limited instances wait while the others are in flight
    with session_scope() as session:
        session.execute(
            update(TaskInstance)
            .where(TaskInstance.task_id == "one_in_dag", TaskInstance.state == "queued")
            .values(state="success")
        )
    assert queue_a_pass() == {"one_in_dag": 1}
