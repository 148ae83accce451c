"""Engine, sessions and schema migrations.

SQLite is shared by the scheduler, the workers, the web server and the CLI, so it runs in
WAL mode with a busy timeout, and write sessions take the write lock up front
(``BEGIN IMMEDIATE``): a deferred transaction that later upgrades to a writer fails at
once with "database is locked" instead of waiting, which is the classic SQLite pitfall.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Executable, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from flowsched.config import ConfigError, conf

_engines: dict[tuple[str, int], Engine] = {}


class DatabaseFolderUnusable(ConfigError):
    """The SQLite file's folder cannot be created: FLOWSCHED_HOME or the URL is wrong."""


class DatabaseNotUpgraded(Exception):
    """The schema is missing or older than this flowsched: the user must run db upgrade."""


def database_url() -> str:
    return conf.database.sql_alchemy_conn


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL and process (a forked child must not reuse its parent's pool)."""
    url = url or database_url()
    key = (url, os.getpid())
    if key not in _engines:
        _engines[key] = _make_engine(url)
    return _engines[key]


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _ensure_sqlite_folder(url)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _ensure_sqlite_folder(url: str) -> None:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _create_private(Path(database))
        except OSError as exc:
            raise DatabaseFolderUnusable(
                f"cannot create the database folder {folder}: {exc.strerror} "
                "(check FLOWSCHED_HOME or [database] sql_alchemy_conn)"
            ) from None


def _create_private(path: Path) -> None:
    """A new SQLite file is readable by its owner only (it holds connections' passwords
    and users' password hashes); SQLite gives its -wal and -shm files the same mode."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _configure_sqlite(engine: Engine) -> None:
    busy_ms = int(conf.database.sqlite_busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" hook below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def _session_factory(readonly: bool) -> sessionmaker[Session]:
    engine = get_engine()
    if readonly and engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_begin="DEFERRED")
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(readonly: bool = False) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back if it raises."""
    session = _session_factory(readonly)()
    try:
        yield session
        if readonly:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def rows_changed(
    session: Session, statement: Executable, params: dict[str, Any] | None = None
) -> int:
    """How many rows an UPDATE or DELETE matched: the outcome of a guarded transition.

    ``Session.execute`` is typed to return a plain ``Result``; for DML it is a
    ``CursorResult``, which carries the count.
    """
    return cast("CursorResult[Any]", session.execute(statement, params)).rowcount


def reset_after_fork() -> None:
    """In a forked child: forget the parent's pooled connections without harming them.

    Closing an inherited PostgreSQL connection would send Terminate on the socket the
    parent still uses, so those are only dropped; an inherited SQLite connection is
    closed, which clears the lock state the child copied from its parent.
    """
    for engine in _engines.values():
        engine.dispose(close=engine.dialect.name == "sqlite")
    _engines.clear()


def dispose_engines() -> None:
    """Drop pooled connections, e.g. right after fork or between tests."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


# --- migrations -------------------------------------------------------------------------


def migrations_folder() -> Path:
    """The Alembic folder: beside the package in a checkout, inside it when installed."""
    package_dir = Path(__file__).resolve().parent.parent  # flowsched/, not flowsched/db/
    for candidate in (package_dir.parent / "alembic", package_dir / "_migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise RuntimeError("flowsched's Alembic migrations are missing from this installation")


def _alembic_config(url: str | None = None):  # type: ignore[no-untyped-def]
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_folder()))
    config.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with (engine or get_engine()).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_db(url: str | None = None) -> None:
    from alembic import command

    command.upgrade(_alembic_config(url), "head")


def check_db() -> tuple[str | None, str]:
    """(current revision, head revision) of the configured database."""
    return current_revision(), head_revision()


def require_current_schema() -> None:
    current, head = check_db()
    if current != head:
        state = "is empty" if current is None else f"is at revision {current}, not {head}"
        raise DatabaseNotUpgraded(f"the database {state}: run `flowsched db upgrade` first")


def reset_db() -> None:
    """Drop every table (ours and Alembic's) and migrate from empty."""
    from flowsched.db.tables import Base

    engine = get_engine()
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        if inspect(connection).has_table("alembic_version"):
            connection.exec_driver_sql("DROP TABLE alembic_version")
    upgrade_db()
