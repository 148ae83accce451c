"""Fixtures of the end-to-end suites (helpers are in support.py).

Settings are made small so that things happen quickly (idle poll, re-scan interval) on a
shared 2-core machine; nothing here asserts how fast anything is.

Every test that uses ``migrated_db`` (the ``scheduler`` fixture does) runs twice: on
SQLite in its home, and on a fresh PostgreSQL database (ids ``sqlite`` / ``postgres``).
A test that only makes sense on one of them says so with ``@pytest.mark.backends("sqlite")``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flowsched import db
from tests.e2e.support import Scheduler

BACKENDS = ("sqlite", "postgres")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*names): run an e2e test on these databases only (sqlite, postgres)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("backends")
    names = marker.args if marker else BACKENDS
    unknown = set(names) - set(BACKENDS)
    assert not unknown, f"unknown backend(s) {unknown}; known: {BACKENDS}"
    params = [
        pytest.param(name, marks=[pytest.mark.postgres] if name == "postgres" else [])
        for name in names
    ]
    metafunc.parametrize("backend", params, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The metadata database of this test: "sqlite" or "postgres"."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def migrated_db(backend: str, home: Path, request: pytest.FixtureRequest) -> Path:
    """A home whose database is at the current schema: SQLite in the home, or a brand-new
    PostgreSQL database (``postgres_url``) that this process and its children use."""
    if backend == "postgres":
        request.getfixturevalue("postgres_url")
    db.upgrade_db()
    return home


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest) -> str:
    """The Celery suites run on both brokers; a test narrows this with
    ``@pytest.mark.parametrize("broker_url", ["redis"], indirect=True)``."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def fast_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "FLOWSCHED__SCHEDULER__IDLE_POLL_INTERVAL": "0.3",
        "FLOWSCHED__SCHEDULER__DAG_DIR_LIST_INTERVAL": "1",
        "FLOWSCHED__SCHEDULER__TASK_HEARTBEAT_INTERVAL": "1",
        "FLOWSCHED__SCHEDULER__SCHEDULER_HEARTBEAT_INTERVAL": "1",
        "FLOWSCHED__CORE__PARALLELISM": "4",
        "FLOWSCHED__CORE__DAGS_ARE_PAUSED_AT_CREATION": "false",
    }.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def scheduler(migrated_db: Path, fast_settings: None) -> Iterator[Scheduler]:
    """A scheduler to start when the test's DAGs are written; stopped (or killed) after."""
    running = Scheduler(migrated_db)
    yield running
    if running.process is not None and running.process.poll() is None:
        running.process.kill()
        running.process.wait(10)


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """Where tasks write what they did."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder
