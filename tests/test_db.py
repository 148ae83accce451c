"""The metadata database: migrations from empty, check, reset, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select

from flowsched import db
from flowsched.db.states import TaskInstanceState, transition_ti
from flowsched.db.tables import DagRun, TaskInstance

EXPECTED_TABLES = {
    "dag",
    "serialized_dag",
    "dag_file",
    "import_error",
    "dag_run",
    "task_instance",
    "task_instance_history",
    "xcom",
    "variable",
    "connection",
    "slot_pool",
    "user",
    "audit_log",
    "job",
    "alembic_version",
}


def _exercise_schema() -> None:
    """Write and read back through the models, including a guarded state transition."""
    amsterdam = timezone(timedelta(hours=2))
    logical = datetime(2025, 3, 30, 3, 0, tzinfo=amsterdam)
    with db.session_scope() as session:
        session.add(
            DagRun(dag_id="d", run_id="r1", run_type="manual", logical_date=logical, state="queued")
        )
        session.add(TaskInstance(dag_id="d", run_id="r1", task_id="t", try_number=1))
    with db.session_scope() as session:
        assert transition_ti(
            session,
            dag_id="d",
            run_id="r1",
            task_id="t",
            expected=[None],
            new=TaskInstanceState.QUEUED,
            try_number=1,
        )
        # A second actor expecting the old state loses the race.
        assert not transition_ti(
            session,
            dag_id="d",
            run_id="r1",
            task_id="t",
            expected=[None],
            new=TaskInstanceState.QUEUED,
            try_number=1,
        )
    with db.session_scope(readonly=True) as session:
        run = session.scalars(select(DagRun)).one()
        assert run.logical_date == datetime(2025, 3, 30, 1, 0, tzinfo=UTC)
        assert run.logical_date.tzinfo is not None
        assert session.scalars(select(TaskInstance.state)).one() == "queued"


def _assert_fully_migrated() -> None:
    assert EXPECTED_TABLES <= set(inspect(db.get_engine()).get_table_names())
    current, head = db.check_db()
    assert current == head


def test_upgrade_from_empty_on_sqlite_creates_every_table(migrated_db):
    _assert_fully_migrated()
    _exercise_schema()


def test_sqlite_runs_in_wal_mode(migrated_db):
    with db.get_engine().connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_naive_datetimes_are_refused(migrated_db):
    with pytest.raises(Exception, match="naive datetime"), db.session_scope() as session:
        session.add(
            DagRun(
                dag_id="d",
                run_id="r",
                run_type="manual",
                logical_date=datetime(2025, 1, 1),
                state="queued",
            )
        )
        session.flush()


def test_require_current_schema_names_the_fix(home):
    with pytest.raises(db.DatabaseNotUpgraded, match="flowsched db upgrade"):
        db.require_current_schema()


def test_reset_drops_data_and_recreates(migrated_db):
    _exercise_schema()
    db.reset_db()
    _assert_fully_migrated()
    with db.session_scope(readonly=True) as session:
        assert session.scalars(select(DagRun)).all() == []


@pytest.mark.postgres
def test_upgrade_from_empty_on_postgresql(postgres_url):
    db.upgrade_db()
    _assert_fully_migrated()
    _exercise_schema()
    db.reset_db()
    _assert_fully_migrated()


def test_an_unusable_home_is_one_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("FLOWSCHED_HOME", str(blocker / "home"))
    monkeypatch.delenv("FLOWSCHED__DATABASE__SQL_ALCHEMY_CONN", raising=False)
    db.dispose_engines()
    with pytest.raises(db.DatabaseFolderUnusable, match="cannot create the database folder"):
        db.upgrade_db()
    db.dispose_engines()


def test_a_new_sqlite_database_is_readable_by_its_owner_only(home):
    db.get_engine()
    path = home / "flowsched.db"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    db.upgrade_db()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    wal = home / "flowsched.db-wal"
    assert not wal.exists() or oct(wal.stat().st_mode & 0o777) == "0o600"
